// daemon/status.hpp: what mxwardend tells about itself: `mxwarden status`
// (text or JSON), the Prometheus metrics, and systemd's one-line STATUS=.
// Read-only views of the loop's objects; loop thread only.
#pragma once
#include "daemon/fleet_link.hpp"
#include "dns/resolver_switch.hpp"
#include "engine/health.hpp"
#include "engine/policy_engine.hpp"
#include "engine/router.hpp"
#include "net/listener.hpp"
#include "net/policy_session.hpp"
#include "net/socketmap_session.hpp"
#include "proto/postfix_log.hpp"

#include <array>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mxw::daemon {

/// Reloads (SIGHUP) since start, for the metrics.
struct reload_counts {
    std::uint64_t applied = 0;
    std::uint64_t failed = 0;
};

/// Postfix delivery attempts read from its log (feedback.source), by outcome.
using delivery_counts = std::array<std::uint64_t, proto::delivery_outcome_count>;

struct counters {
    const engine::policy_engine& eng;
    const engine::router& router;
    const engine::health_table& health;
    const dns::resolver_switch& res;
    const net::policy_service& pol;
    const net::socketmap_service& smap;
    const net::connection_count& conns;
    const reload_counts& reloads;
    const delivery_counts& deliveries;
};

// Held quarantine entries by reason, refreshed on the store thread: the
// loop never reads SQLite.
struct quarantine_gauge {
    std::vector<std::pair<std::string, std::int64_t>> held;
    std::uint64_t bytes = 0;      ///< pages holding data
    std::uint64_t max_bytes = 0;  ///< quarantine.max-size, "auto" measured now; 0 until a store exists
    bool known = false;
};

std::string status_text(bool json, const counters& c);
/// `fleet`: the link to the fleet's store, nullptr without store.url.
std::string metrics_text(const counters& c, const quarantine_gauge& q, const std::string& transport,
                         const fleet_counts* fleet);
/// One line for systemd's STATUS= (shown by `systemctl status`).
std::string status_line(const counters& c);

}  // namespace mxw::daemon
