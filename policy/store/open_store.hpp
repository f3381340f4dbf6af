// store/open_store.hpp: where the stores are, and the one place that picks
// a backend for them. Callers hold the interfaces only.
#pragma once
#include "store/fleet_state.hpp"
#include "store/quarantine.hpp"

#include <memory>
#include <string>

namespace mxw::store {

/// What the configuration says about the store.
struct store_location {
    std::string sqlite_path;  ///< quarantine.database: the SQLite file
};

enum class open_mode {
    create,     ///< ingest: make the store if there is none yet
    existing,   ///< the admin verbs and the daemon's upkeep: never create it
    read_only,  ///< doctor
};

/// The quarantine at `where`, migrated. nullptr when `m` is not create and
/// there is no store yet: the admin verbs must not create it, as root and
/// with root's ownership, before the MTA's ingest user gets to. Throws
/// store_error.
std::unique_ptr<quarantine> open_quarantine(const store_location& where, open_mode m);

/// The fleet's shared routing state at `url` (store.url), as `node`
/// (store.node), its schema migrated. Connects at once: throws store_error,
/// transient when the database cannot be reached now.
std::unique_ptr<fleet_state> open_fleet_state(const std::string& url, const std::string& node);

/// Where the quarantine is, for messages.
std::string describe(const store_location& where);

}  // namespace mxw::store
