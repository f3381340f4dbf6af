// store/quarantine_store.hpp: the quarantine, one SQLite file. Holds each
// message with its envelope, reason, the daemon's evidence, state (held,
// released, deleted) and history, and keeps an ingest idempotent: the MTA
// delivering the same message twice (after a crash between commit and
// exit) finds it already stored. The schema is versioned with PRAGMA
// user_version and migrated step by step on open. Times are Unix seconds,
// passed in by the caller. No policy: the CLI decides what to do.
#pragma once
#include "store/sqlite.hpp"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mxw::store {

enum class entry_state { held, released, deleted };
std::string_view to_string(entry_state s) noexcept;
std::optional<entry_state> parse_entry_state(std::string_view s) noexcept;

/// The file was written by a newer mxwarden (or is not a quarantine):
/// refused rather than guessed at. Not transient.
class schema_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The schema version this code writes.
inline constexpr int quarantine_schema_version = 1;

/// Brings `db` from its user_version to quarantine_schema_version, one step
/// per version, each step in its own transaction. Throws schema_error for a
/// version above the known one, sqlite_error on failure.
void migrate_quarantine(database& db);

/// One message as the MTA hands it over.
struct new_entry {
    std::string reason;        ///< reason code, e.g. "dns-failure" (mxq:<reason>)
    std::string reason_text;   ///< optional free text
    std::string queue_id;      ///< the MTA's queue id, may be empty
    std::string sender;        ///< envelope sender, empty for the null sender
    std::vector<std::string> recipients;  ///< at least one
    std::string message;       ///< the raw message
    std::string evidence;      ///< JSON from the daemon, or empty
};

struct ingest_result {
    enum class kind {
        stored,     ///< a new entry
        duplicate,  ///< this very delivery was stored before: nothing changed
        returned,   ///< a released message came back: its own entry is held again
    } what;
    std::int64_t id;
};

struct entry_summary {
    std::int64_t id = 0;
    std::int64_t created = 0;
    std::int64_t updated = 0;
    entry_state state = entry_state::held;
    std::string reason;
    std::string sender;
    std::string first_recipient;
    std::int64_t recipient_count = 0;
    std::int64_t size = 0;
    std::string subject;
    std::int64_t attempts = 0;
};

struct history_event {
    std::int64_t at = 0;
    std::string event;   ///< "quarantined", "returned", "released", "release-failed", "deleted"
    std::string detail;
};

struct entry_details {
    entry_summary summary;
    std::string reason_text;
    std::string queue_id;
    std::string header_from;
    std::string message_id;
    std::string evidence;
    std::vector<std::string> recipients;
    std::vector<history_event> history;
    bool has_message = false;  ///< false once deleted
};

/// Filters combine with AND; an unset one matches everything.
struct list_filter {
    std::optional<std::string> reason;
    std::optional<std::string> domain;  ///< a recipient's domain, case-blind
    std::optional<std::int64_t> since;  ///< created at or after
    std::optional<entry_state> state;   ///< nullopt: every state
};

struct stats_row {
    entry_state state = entry_state::held;
    std::string reason;
    std::int64_t count = 0;
    std::int64_t bytes = 0;
};

/// One connection; use from one thread. Every method throws sqlite_error
/// (transient() tells whether to retry) or schema_error.
class quarantine_store {
public:
    /// Opens `path` and migrates it. read_write_create also creates the
    /// directory (0750) and the file (0640), so mail stays readable by the
    /// owner and its group only.
    explicit quarantine_store(const std::string& path, database::mode m = database::mode::read_write_create);

    /// Stores a message in one transaction. When `returned_id` names an
    /// entry that is held or released and the envelope fits it (same sender,
    /// recipients among the entry's), that entry is held again with the
    /// new reason and attempts+1 instead, so a released message that fails
    /// again does not make a duplicate; a header naming any other entry is
    /// ignored (anybody can write that header).
    ingest_result ingest(const new_entry& e, std::int64_t now, std::optional<std::int64_t> returned_id = std::nullopt);

    /// Newest last. Never reads message bodies.
    std::vector<entry_summary> list(const list_filter& f);
    std::optional<entry_details> find(std::int64_t id);
    /// The raw message, nullopt if the entry is unknown or deleted.
    std::optional<std::string> message(std::int64_t id);

    /// After the MTA took the message: released, unless it already came
    /// back (its attempts moved past `attempts_at_release`), in which case
    /// it stays held and only the history says so. False if the entry was
    /// not found.
    bool mark_released(std::int64_t id, std::int64_t attempts_at_release, std::int64_t now, std::string_view detail);
    /// A failed release: the entry stays as it was, the history keeps why.
    void record_release_failure(std::int64_t id, std::int64_t now, std::string_view error);
    /// Marks the entry deleted and drops its message; the metadata stays
    /// until purge. False if unknown or already deleted.
    bool remove(std::int64_t id, std::int64_t now);

    /// Removes released and deleted entries last changed before `cutoff`
    /// (and held ones too with `include_held`), with their message,
    /// recipients and history. Returns how many entries went. Safe to call
    /// periodically from the daemon with cutoff = now - quarantine.retention.
    std::size_t purge(std::int64_t cutoff, bool include_held = false);

    /// Counts and message bytes by state and reason.
    std::vector<stats_row> stats();

    [[nodiscard]] database& db() noexcept { return db_; }

private:
    void add_history(std::int64_t id, std::int64_t at, std::string_view event, std::string_view detail);
    database db_;
};

}  // namespace mxw::store
