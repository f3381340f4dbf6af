// store/pg_quarantine.hpp: the quarantine in a PostgreSQL database that a
// fleet of MTAs shares, with the semantics of the SQLite store (see
// store/quarantine.hpp): idempotent ingest, a returned message updating its
// own entry, exactly one of several racing releases claiming an entry, now
// across machines. Every entry records the node (fleet member) that took
// it, every claim the node whose process holds it.
//
// The schema lives in the PostgreSQL schema `mxwarden`, versioned per
// component in mxwarden.schema and migrated on open; see pg_quarantine.cpp.
#pragma once
#include "store/entry_keys.hpp"
#include "store/pg.hpp"
#include "store/quarantine.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mxw::store {

/// The schema version of the quarantine tables this code writes.
inline constexpr int pg_quarantine_schema_version = 3;

/// What import_entry did.
struct import_result {
    bool copied = false;   ///< false: an earlier import of this origin stands
    std::int64_t id = 0;   ///< the entry here, new or earlier
};

/// One connection; use from one thread. Every method throws pg_error
/// (transient() tells whether to retry) or schema_error.
class pg_quarantine final : public quarantine {
public:
    /// Connects with `conninfo` (a libpq connection string or URI) and
    /// migrates the schema if it is older than this code's; a newer one
    /// throws schema_error. `node` names this fleet member in the entries
    /// it takes and the claims it makes.
    pg_quarantine(const std::string& conninfo, std::string node);

    ingest_result ingest(const new_entry& e, std::int64_t now, std::optional<std::int64_t> returned_id = std::nullopt,
                         std::optional<std::uint64_t> max_bytes = std::nullopt) override;
    std::vector<entry_summary> list(const list_filter& f) override;
    std::vector<entry_summary> page(const list_filter& f, const page_request& p) override;
    std::int64_t count(const list_filter& f) override;
    std::optional<entry_details> find(std::int64_t id) override;
    std::optional<std::string> message(std::int64_t id) override;
    /// Claims for this node; `mine.node` is not read.
    claim_result claim_release(std::int64_t id, const release_claim& mine,
                               const std::function<bool(const release_claim&)>& is_stale) override;
    /// The claim must be this node's and `pid`'s.
    bool mark_released(std::int64_t id, std::int64_t pid, std::int64_t attempts_at_release, std::int64_t now,
                       std::string_view detail) override;
    /// The claim must be this node's and `pid`'s.
    void record_release_failure(std::int64_t id, std::int64_t pid, std::int64_t now, std::string_view error) override;
    bool remove(std::int64_t id, std::int64_t now, std::string_view by) override;
    std::size_t purge(std::int64_t cutoff, bool include_held = false) override;
    std::vector<stats_row> stats() override;
    /// file_bytes: what the quarantine's tables and indexes take on the
    /// server (compressed, with dead rows autovacuum has yet to reuse);
    /// used_bytes: the bytes of the messages still held, which the limit
    /// counts.
    store_usage usage() override;
    /// `configured`, or unset, no limit: the database's size and disk are
    /// its administrator's to watch, not one node's.
    std::uint64_t max_bytes(std::optional<std::uint64_t> configured) override;

    /// Copies an entry from another store (`mxwarden store migrate`) in
    /// one transaction, under a new id and this node, unless an entry with
    /// this `origin` (a name unique to the source entry, e.g.
    /// "sqlite:NODE:ID") was imported before: then nothing changes. Every
    /// field of `d` but id and node is kept; an entry that was releasing
    /// comes in held, since its claim belongs to a process on the source
    /// machine. `message` is stored when given (nullopt for a deleted
    /// entry). `deliveries` are recognised as repeats here from now on,
    /// except a fingerprint this store already knows, which keeps its
    /// entry. A "migrated" history line at `now` names the origin.
    import_result import_entry(std::string_view origin, const entry_details& d,
                               const std::optional<std::string>& message,
                               const std::vector<delivery_record>& deliveries, std::int64_t now);
    /// The entry imported from `origin`, if any.
    std::optional<std::int64_t> find_origin(std::string_view origin);

    [[nodiscard]] pg_connection& connection() noexcept { return conn_; }

private:
    void add_history(std::int64_t id, std::int64_t at, std::string_view event, std::string_view detail);
    void insert_recipients(std::int64_t id, const std::vector<std::string>& rcpts);
    pg_connection conn_;
    std::string node_;
};

/// Brings the quarantine tables of `c` to version `target` (the current
/// one unless a test wants an old database), in one transaction under an
/// advisory lock, so nodes starting together migrate once. Throws
/// schema_error for a version above the known one or above `target`,
/// pg_error on failure.
void migrate_pg_quarantine(pg_connection& c, int target = pg_quarantine_schema_version);

}  // namespace mxw::store
