// store/fleet_state.hpp: the routing state a fleet of mxwardend nodes
// shares (issue 12): what each node learns about MX hosts, and the fleet's
// last-known-good routes. Only a shared database has it (store.url); one
// machine alone keeps its routes in route_store and its health in memory,
// so there is no SQLite backend of this interface. The daemon calls it from
// its store thread only, in batches, never from the lookup path.
#pragma once
#include "store/error.hpp"
#include "store/route_store.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace mxw::store {

/// One thing a node learned about one MX address (engine::observation as
/// stored, without the engine's types).
struct shared_observation {
    std::string address;
    std::string node;       ///< who made it; publish() fills in its own node
    std::int64_t at_ms = 0; ///< when it was made
    std::string source;     ///< "probe" or "delivery"
    bool ok = false;
    std::string outcome;    ///< token, e.g. "banner-timeout", "sent"
    std::string stage;      ///< "connect", "greeting", "ehlo", ...; "" for successes
    std::string detail;     ///< peer text, unsanitized
};

/// Where fetch() goes on from. The backend's own position: callers keep
/// it and hand it back, and read nothing but at_ms.
struct fleet_cursor {
    std::int64_t seq = 0;   ///< the backend's last row seen; 0: none yet
    std::int64_t at_ms = 0; ///< with seq 0: start at observations made at or after this
};

/// One connection to the fleet's shared state; use from one thread. Every
/// method throws store_error (transient() for a database that is down or
/// busy); the caller then drops the handle and opens a new one later.
class fleet_state {
public:
    virtual ~fleet_state() = default;
    fleet_state() = default;
    fleet_state(const fleet_state&) = delete;
    fleet_state& operator=(const fleet_state&) = delete;

    /// Stores this node's observations, in one transaction, as made by
    /// this node (whatever `node` says).
    virtual void publish(const std::vector<shared_observation>& batch) = 0;
    /// Other nodes' observations after `from`, oldest first, at most
    /// `limit`; advances `from` past them. Never this node's own, so
    /// nothing a node publishes comes back to it.
    virtual std::vector<shared_observation> fetch(fleet_cursor& from, std::size_t limit) = 0;

    /// Replaces each destination's route (a route with no hosts removes
    /// it), in one transaction. Of two nodes' routes for one destination
    /// the one saved last (saved_at) is kept.
    virtual void save_routes(const std::vector<saved_route>& batch) = 0;
    /// The fleet's routes, newest first, at most `limit`: what a node
    /// starting in a DNS outage routes with.
    [[nodiscard]] virtual std::vector<saved_route> load_routes(std::size_t limit) = 0;
};

}  // namespace mxw::store
