// daemon/health_view.hpp: the answer to the control verb `health` (see
// proto/health_report.hpp), made from the loop's own objects: the host
// health table, the router's destinations that fail DNS or have every host
// dead, and the 24-hour activity ring, which the daemon's tick feeds with
// activity_sample(). Read-only views; loop thread only.
#pragma once
#include "daemon/status.hpp"
#include "engine/activity.hpp"
#include "proto/health_report.hpp"

#include <cstdint>

namespace mxw::daemon {

/// Feeds `ring` with the running totals at `unix_now`: policy requests
/// answered (every one is a decision), DNS lookups that failed and the
/// dead hosts now.
void activity_sample(engine::activity_ring& ring, const counters& c, std::int64_t unix_now);

/// DNS lookups that failed since start: SERVFAIL, timeout and bogus, the
/// statuses that stop routing or a check (dns::is_temporary). NXDOMAIN and
/// NODATA are answers about the domain, which the DNS gave as asked.
std::uint64_t dns_failures(const counters& c);

/// Entries of the health table that are dead now.
std::uint64_t dead_hosts(const engine::health_table& h);

/// The report for `mxwarden health` at this instant. `now` is the loop's
/// steady clock and `unix_now` the wall clock, read together: the tables
/// keep steady times, which are told as Unix seconds through them. Dead
/// hosts come first, then healthy, then unknown, each newest observation
/// first, so the ones that matter survive the report's caps.
proto::health_report health_report_of(const counters& c, const engine::activity_ring& ring,
                                      engine::health_table::time_point now, std::int64_t unix_now);

}  // namespace mxw::daemon
