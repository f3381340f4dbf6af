#include "store/pg_schema.hpp"

#include "store/quarantine.hpp"

#include <cstdint>
#include <string>

namespace mxw::store {
namespace {

// Creating the schema needs the CREATE right on the database; it runs only
// when a component's version does not fit (see pg_migrate).
constexpr std::string_view bootstrap = R"sql(
CREATE SCHEMA IF NOT EXISTS mxwarden;
CREATE TABLE IF NOT EXISTS mxwarden.schema (
    component text PRIMARY KEY,
    version integer NOT NULL
);
)sql";

// Every component migrates under this one key (pg_advisory_xact_lock,
// released at commit or rollback): two bootstraps at once could fail on the
// catalog's unique index (CREATE SCHEMA IF NOT EXISTS is not safe against
// itself). Another application's keys could only make one of us wait.
constexpr std::int64_t migration_lock = 0x6d78770001;  // "mxw" 1

void refuse_newer(std::string_view what, int v, std::size_t known)
{
    if (v < 0 || static_cast<std::size_t>(v) > known)
        throw schema_error("the PostgreSQL " + std::string(what) + " has schema version " + std::to_string(v) +
                           "; this mxwarden knows versions up to " + std::to_string(known) +
                           " (was it written by a newer mxwarden?)");
}

}  // namespace

int pg_component_version(pg_connection& c, std::string_view component)
{
    if (!c.exec("SELECT to_regclass('mxwarden.schema') IS NOT NULL").boolean(0, 0))
        return 0;
    auto r = c.exec("SELECT version FROM mxwarden.schema WHERE component = $1", {component});
    return r.rows() ? static_cast<int>(r.integer(0, 0)) : 0;
}

void pg_migrate(pg_connection& c, std::string_view component, std::string_view what, std::span<const pg_step> steps,
                int target)
{
    int v = pg_component_version(c, component);
    refuse_newer(what, v, steps.size());
    if (v == target)
        return;
    // Nodes starting together queue on the lock; the one that gets it
    // second finds the work done.
    pg_transaction t(c);
    c.exec("SELECT pg_advisory_xact_lock($1::bigint)", {migration_lock});
    c.exec_script(bootstrap);
    v = pg_component_version(c, component);
    refuse_newer(what, v, steps.size());
    if (v > target)
        throw schema_error("cannot migrate the PostgreSQL " + std::string(what) + " back from version " +
                           std::to_string(v));
    for (; v < target; ++v)
        steps[static_cast<std::size_t>(v)](c);
    c.exec("INSERT INTO mxwarden.schema (component, version) VALUES ($1, $2::integer)"
           " ON CONFLICT (component) DO UPDATE SET version = excluded.version",
           {component, std::int64_t{target}});
    t.commit();
}

}  // namespace mxw::store
