// net/control_session.hpp: the local control socket the mxwarden CLI talks
// to. One request line ("check sender ADDRESS [json]", "check client IP
// [json]", "route DOMAIN [json]", "status [json]", "ping"), one response,
// then close.
#pragma once
#include "base/logging.hpp"
#include "engine/policy_engine.hpp"
#include "engine/router.hpp"
#include "net/asio.hpp"

#include <functional>
#include <string>

namespace mxw::net {

struct control_service {
    engine::policy_engine& engine;
    engine::router& router;
    base::logger& log;
    std::function<std::string(bool json)> status;  ///< daemon-wide counters
};

template <class Socket>
asio::awaitable<void> run_control_session(Socket sock, control_service& svc);

/// Splits a control line into words; pure, for the session and its tests.
std::vector<std::string> split_words(std::string_view line);

}  // namespace mxw::net
