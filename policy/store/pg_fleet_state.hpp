// store/pg_fleet_state.hpp: the fleet's shared routing state (see
// store/fleet_state.hpp) in the PostgreSQL database the quarantine uses,
// schema `mxwarden`, component 'fleet' in mxwarden.schema.
//
// Observations are stamped with the database's clock: a node sends how old
// each one is, the database turns that into its own time, and fetch turns
// it back into the reader's. Nodes' clocks may differ; the order of what
// they learned does not depend on them. Routes keep the saving node's
// saved_at (Unix seconds), which decides between two nodes' routes.
#pragma once
#include "store/fleet_state.hpp"
#include "store/pg.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mxw::store {

/// The schema version of the fleet tables this code writes.
inline constexpr int pg_fleet_schema_version = 1;

/// One connection; use from one thread. Throws pg_error (transient() for
/// a database that is away) or schema_error.
class pg_fleet_state final : public fleet_state {
public:
    /// Connects with `conninfo` (libpq connection string or URI) as fleet
    /// member `node`, and migrates the fleet tables; a newer version
    /// throws schema_error.
    pg_fleet_state(const std::string& conninfo, std::string node);

    void publish(const std::vector<shared_observation>& batch) override;
    std::vector<shared_observation> fetch(fleet_cursor& from, std::size_t limit) override;
    void save_routes(const std::vector<saved_route>& batch) override;
    [[nodiscard]] std::vector<saved_route> load_routes(std::size_t limit) override;

private:
    pg_connection conn_;
    std::string node_;
    std::uint64_t publishes_ = 0;
};

/// Brings the fleet tables of `c` to the current version (the quarantine's
/// migration rules: one transaction, under the same advisory lock, since
/// both may create the schema). Throws schema_error, pg_error.
void migrate_pg_fleet(pg_connection& c);

/// A route's hosts as one bytea value, and back: per host a 2-byte
/// preference, a 2-byte name length and the name, a 2-byte address count,
/// and per address a 2-byte length and the address (big-endian, no
/// padding). Pure. encode leaves out a host no DNS answer can hold (a name,
/// an address or an address count over 65535); decode returns nullopt for
/// anything malformed, so another node's row is used whole or not at all.
std::string encode_route_hosts(const std::vector<saved_host>& hosts);
std::optional<std::vector<saved_host>> decode_route_hosts(std::string_view bytes);

}  // namespace mxw::store
