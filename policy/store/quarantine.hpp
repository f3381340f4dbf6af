// store/quarantine.hpp: what the quarantine is, whatever keeps it. The
// CLI, the daemon and doctor see only this interface; open_quarantine picks
// the backend from the configuration (a SQLite file on one machine, or a
// PostgreSQL database a fleet shares). Each backend keeps an ingest
// idempotent, lets exactly one of several racing releases claim an entry,
// and versions its schema. Times are Unix seconds, passed in by the caller.
#pragma once
#include "store/error.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mxw::store {

enum class entry_state { held, releasing, released, deleted };
std::string_view to_string(entry_state s) noexcept;
std::optional<entry_state> parse_entry_state(std::string_view s) noexcept;

/// The file was written by a newer mxwarden (or is not a quarantine):
/// refused rather than guessed at. Not transient.
class schema_error : public store_error {
public:
    using store_error::store_error;
    [[nodiscard]] bool transient() const noexcept override { return false; }
};

/// An ingest that would take the store past its size limit: transient,
/// the MTA keeps the mail until an admin makes room.
class quarantine_full : public store_error {
public:
    quarantine_full(std::uint64_t used, std::uint64_t limit);
    [[nodiscard]] std::uint64_t used() const noexcept { return used_; }
    [[nodiscard]] std::uint64_t limit() const noexcept { return limit_; }
    [[nodiscard]] bool transient() const noexcept override { return true; }

private:
    std::uint64_t used_;
    std::uint64_t limit_;
};

/// Who releases an entry: a process, on which fleet member, and since when.
struct release_claim {
    std::int64_t pid = 0;
    std::int64_t at = 0;
    /// The fleet member whose process holds the claim, as the store reports
    /// it (a pid says nothing on another machine); a backend claims for the
    /// node it was opened as. Empty for SQLite: one machine. (The braces
    /// keep `{pid, at}` free of a missing-initializer warning.)
    std::string node{};
};

struct claim_result {
    enum class kind {
        claimed,   ///< this release may send it
        busy,      ///< another release holds a live claim (`holder`)
        not_held,  ///< released or deleted (`state`)
        unknown,   ///< no such entry
    } what = kind::unknown;
    entry_state state = entry_state::held;
    std::optional<release_claim> holder;  ///< busy: the live claim; claimed: a stale one taken over
};

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
    std::string node{};  ///< the fleet member that took it; empty for SQLite
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
    std::optional<std::string> sender;  ///< the envelope sender, case-blind, exact ("" = the null sender)
    /// Free text: a case-blind substring of the sender, any recipient or the
    /// subject. Taken literally: % _ and backslash are no wildcards.
    std::optional<std::string> text;
    /// A reviewer's view: entries whose EVERY recipient's domain (case-blind)
    /// is one of these, so a reviewer never sees mail that also went to
    /// someone outside their domains; an empty list matches nothing.
    std::optional<std::vector<std::string>> only_domains;
};

/// One page of a listing, newest first: the entries with an id below
/// `before_id` (the last id of the previous page; unset: from the newest).
/// Paging by id rather than by offset keeps every page as cheap as the
/// first and skips nothing when entries arrive meanwhile.
struct page_request {
    std::optional<std::int64_t> before_id;
    std::size_t limit = 50;  ///< at most max_page_entries
};

/// The largest page a store hands out, whatever page_request asks.
inline constexpr std::size_t max_page_entries = 500;

struct stats_row {
    entry_state state = entry_state::held;
    std::string reason;
    std::int64_t count = 0;
    std::int64_t bytes = 0;
};

/// Disk use of the store: its pages, and those of them holding data.
struct store_usage {
    std::uint64_t file_bytes = 0;
    std::uint64_t used_bytes = 0;
};

/// One handle on the quarantine; use from one thread. Every method throws
/// store_error.
class quarantine {
public:
    virtual ~quarantine() = default;
    quarantine() = default;
    quarantine(const quarantine&) = delete;
    quarantine& operator=(const quarantine&) = delete;

    /// Stores a message in one transaction. When `returned_id` names an
    /// entry that is held or released and the envelope fits it (same sender,
    /// recipients among the entry's), that entry is held again with the
    /// new reason and attempts+1 instead, so a released message that fails
    /// again does not make a duplicate; a header naming any other entry is
    /// ignored (anybody can write that header). A new entry that would
    /// take the data past `max_bytes` throws quarantine_full; a repeated
    /// delivery or a returned message adds no body and always goes in.
    virtual ingest_result ingest(const new_entry& e, std::int64_t now,
                                 std::optional<std::int64_t> returned_id = std::nullopt,
                                 std::optional<std::uint64_t> max_bytes = std::nullopt) = 0;

    /// Newest last. Never reads message bodies.
    virtual std::vector<entry_summary> list(const list_filter& f) = 0;
    /// The entries matching `f`, id descending, only ids below
    /// `p.before_id` when set, at most min(p.limit, max_page_entries).
    /// Never reads message bodies.
    virtual std::vector<entry_summary> page(const list_filter& f, const page_request& p) = 0;
    /// How many entries match `f` (all pages together).
    virtual std::int64_t count(const list_filter& f) = 0;
    virtual std::optional<entry_details> find(std::int64_t id) = 0;
    /// The raw message, nullopt if the entry is unknown or deleted.
    virtual std::optional<std::string> message(std::int64_t id) = 0;

    /// Moves a held entry to releasing under `mine`, in one transaction, so
    /// of several releases racing for it exactly one gets `claimed`. An
    /// entry already releasing is taken over only when `is_stale` says its
    /// claimer is gone (crashed mid-release); the history records both.
    virtual claim_result claim_release(std::int64_t id, const release_claim& mine,
                                       const std::function<bool(const release_claim&)>& is_stale) = 0;
    /// After the MTA took the message: released, unless it already came
    /// back (its attempts moved past `attempts_at_release`) or is no longer
    /// claimed by `pid`, in which case only the history changes. False if
    /// the entry was not found.
    virtual bool mark_released(std::int64_t id, std::int64_t pid, std::int64_t attempts_at_release, std::int64_t now,
                               std::string_view detail) = 0;
    /// A failed release: the entry goes back to held (if `pid` still holds
    /// the claim), the history keeps why.
    virtual void record_release_failure(std::int64_t id, std::int64_t pid, std::int64_t now,
                                        std::string_view error) = 0;
    /// Marks the entry deleted and drops its message; the metadata stays
    /// until purge. `by` names who deleted it (a unix user, "web:NAME"):
    /// non-empty, the history's "deleted" event says "by NAME". False if
    /// unknown or already deleted.
    virtual bool remove(std::int64_t id, std::int64_t now, std::string_view by) = 0;

    /// Removes released and deleted entries last changed before `cutoff`
    /// (and held ones too with `include_held`), with their message,
    /// recipients and history. Returns how many entries went. Safe to call
    /// periodically from the daemon with cutoff = now - quarantine.retention.
    virtual std::size_t purge(std::int64_t cutoff, bool include_held = false) = 0;

    /// Counts and message bytes by state and reason.
    virtual std::vector<stats_row> stats() = 0;

    virtual store_usage usage() = 0;
    /// `configured` (quarantine.max-size) or, unset, the backend's default.
    virtual std::uint64_t max_bytes(std::optional<std::uint64_t> configured) = 0;
};

}  // namespace mxw::store
