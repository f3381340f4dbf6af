// net/control_session.hpp: the local control socket the mxwarden CLI talks
// to. One request line (proto/control_request.hpp), one response, then
// close. The request must arrive within request_timeout, and the response
// must be taken within it too: a client that connects and sends nothing,
// or half a line, or never reads, is closed instead of holding a
// connection slot for ever. Working out the answer is not timed here; the
// engine's and the router's own deadlines bound it.
#pragma once
#include "base/logging.hpp"
#include "engine/policy_engine.hpp"
#include "engine/router.hpp"
#include "net/asio.hpp"

#include <chrono>
#include <functional>
#include <string>

namespace mxw::net {

struct control_service {
    engine::policy_engine& engine;
    engine::router& router;
    base::logger& log;
    std::function<std::string(bool json)> status;  ///< daemon-wide counters
    /// The CLI writes its line as soon as it is connected and reads at once;
    /// five seconds leave room for a loaded machine and for a person typing
    /// into socat, and no config key is needed for a local client.
    std::chrono::milliseconds request_timeout{5000};
    /// The answer to `health`: proto/health_report.hpp's text. Unset: the
    /// daemon has none to give (an error line).
    std::function<std::string()> health = {};
};

template <class Socket>
asio::awaitable<void> run_control_session(Socket sock, control_service& svc);

}  // namespace mxw::net
