// store/pg_schema.hpp: how each part of mxwarden's PostgreSQL tables (the
// quarantine, the fleet's shared state) is versioned and migrated. All of
// them live in the schema `mxwarden`, not in prefixed tables beside the
// site's own: a DBA grants, dumps (pg_dump -n mxwarden) or drops it as one
// thing. mxwarden.schema holds one version per component, so each
// migrates on its own, in steps, under one advisory lock.
#pragma once
#include "store/pg.hpp"

#include <span>
#include <string_view>

namespace mxw::store {

/// One migration step: brings a component from version N to N+1.
using pg_step = void (*)(pg_connection&);

/// The version of `component` in the database; 0 when it has no tables
/// yet (or there is no mxwarden schema at all). Only reads.
int pg_component_version(pg_connection& c, std::string_view component);

/// Brings `component` to `target` (at most steps.size()) with steps[v] for
/// each version v below it, in one transaction under the migration lock,
/// so nodes starting together migrate once. When the version already
/// fits, only reads: a node whose role may only read and write the tables
/// (a DBA migrated them) never needs the right to create. A version above
/// steps.size(), or above `target`, throws schema_error naming `what`
/// ("quarantine", "fleet tables"); pg_error on failure.
void pg_migrate(pg_connection& c, std::string_view component, std::string_view what, std::span<const pg_step> steps,
                int target);

}  // namespace mxw::store
