// store/route_store.hpp: the last-known-good routes, kept across restarts
// (seed 000: a restart during a DNS outage must still route). Only routes
// that named hosts are kept; a destination that turned null-MX or
// nonexistent is forgotten, so a restart never revives a stale bounce.
// Not thread-safe: the daemon uses it from its one SQLite thread only.
#pragma once
#include "store/sqlite.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace mxw::store {

struct saved_host {
    std::uint16_t preference = 0;
    std::string name;
    std::vector<std::string> addresses;
};

struct saved_route {
    std::string destination;  ///< "example.com", or "[relay.example.net]" for the smart host
    bool implicit = false;    ///< no MX: the domain's own address
    std::uint32_t ttl = 0;
    std::string evidence;
    std::vector<saved_host> hosts;  ///< empty: forget the destination
    std::int64_t saved_at = 0;      ///< Unix time
};

class route_store {
public:
    /// Opens or creates the database; throws sqlite_error.
    explicit route_store(const std::string& path);

    /// Replaces the destination's route (or deletes it when it has no
    /// hosts) in one transaction.
    void save(const saved_route& r);

    /// Every kept route, newest first, at most `limit`.
    [[nodiscard]] std::vector<saved_route> load(std::size_t limit);

private:
    database db_;
};

}  // namespace mxw::store
