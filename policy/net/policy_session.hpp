// net/policy_session.hpp: one Postfix policy connection. A thin shell: it
// reads bytes, feeds the policy_attrs codec, asks the engine, writes the
// encoded reply and logs the decision. Requests are answered strictly in
// order (Postfix sends the next only after the reply). Malformed input gets
// no reply, one warning and a disconnect (SMTPD_POLICY_README).
#pragma once
#include "base/logging.hpp"
#include "engine/policy_engine.hpp"
#include "net/asio.hpp"
#include "net/idle_watch.hpp"
#include "proto/prometheus.hpp"

#include <array>
#include <chrono>
#include <cstdint>

namespace mxw::net {

/// State shared by every policy session of one daemon (loop thread only).
struct policy_service {
    engine::policy_engine& engine;
    base::logger& log;
    std::chrono::milliseconds idle_timeout;
    engine::action failure_action = engine::action::ignore;  ///< answer when the engine throws
    std::uint64_t next_id = 1;
    std::uint64_t requests = 0;
    std::uint64_t protocol_errors = 0;
    // For the metrics endpoint: findings by check and outcome, answers by
    // action, and the time from a complete request to its reply.
    std::array<std::uint64_t, 2 * engine::outcome_count> findings{};
    std::array<std::uint64_t, 5> actions{};
    proto::histogram latency{};
    session_set sessions{};  ///< for the drain on SIGTERM
};

template <class Socket>
asio::awaitable<void> run_policy_session(Socket sock, policy_service& svc);

}  // namespace mxw::net
