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
    std::string url;          ///< store.url: PostgreSQL, shared by a fleet; empty: the SQLite file
    std::string node;         ///< store.node: this machine's name in the shared store
};

enum class open_mode {
    create,     ///< ingest: make the store if there is none yet
    existing,   ///< the admin verbs and the daemon's upkeep: never create it
    read_only,  ///< doctor
};

/// The quarantine at `where`, migrated. For SQLite, nullptr when `m` is
/// not create and there is no file yet: the admin verbs must not create
/// it, as root and with root's ownership, before the MTA's ingest user
/// gets to. A PostgreSQL store always exists (its tables are made on first
/// use by whoever comes first). Throws store_error.
std::unique_ptr<quarantine> open_quarantine(const store_location& where, open_mode m);

/// The fleet's shared routing state at `url` (store.url), as `node`
/// (store.node), its schema migrated. Connects at once: throws store_error,
/// transient when the database cannot be reached now.
std::unique_ptr<fleet_state> open_fleet_state(const std::string& url, const std::string& node);

/// What a look at the store finds, without changing it (no migration, no
/// file created): for `mxwardend --check-config` and doctor.
struct store_check {
    enum class kind {
        ok,           ///< reachable, at this code's schema version or an older one it will migrate
        absent,       ///< nothing there yet (made on first use)
        unreachable,  ///< cannot connect or read now: routing goes on, ingest answers 75
        newer,        ///< written by a newer mxwarden: this one refuses it
    } what = kind::ok;
    std::string detail;
};
store_check check_store(const store_location& where);

/// Where the quarantine is, for messages: the file, or the PostgreSQL
/// server and database (never a password).
std::string describe(const store_location& where);

}  // namespace mxw::store
