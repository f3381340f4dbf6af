// net/socketmap_session.hpp: one socketmap connection (Postfix
// transport_maps / smtp_tls_policy_maps, Sendmail mailertable). Netstring
// requests "NAME KEY", one reply each, strictly in request order. A framing
// error closes the connection with one warning (the MTA reconnects).
#pragma once
#include "base/logging.hpp"
#include "engine/router.hpp"
#include "net/asio.hpp"
#include "net/idle_watch.hpp"

#include <chrono>
#include <cstdint>

namespace mxw::net {

struct socketmap_service {
    engine::router& router;
    base::logger& log;
    std::chrono::milliseconds idle_timeout;
    std::uint64_t lookups = 0;
    std::uint64_t protocol_errors = 0;
    session_set sessions{};  ///< for the drain on SIGTERM
};

template <class Socket>
asio::awaitable<void> run_socketmap_session(Socket sock, socketmap_service& svc);

}  // namespace mxw::net
