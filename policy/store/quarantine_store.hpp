// store/quarantine_store.hpp: the quarantine, one SQLite file. Holds each
// message with its envelope, reason, the daemon's evidence, state (held,
// released, deleted) and history, and keeps an ingest idempotent: the MTA
// delivering the same message twice (after a crash between commit and
// exit) finds it already stored. A release first claims its entry (held ->
// releasing -> released, or back to held when the send fails), so two
// admins releasing at once never both send. The schema is versioned with
// PRAGMA user_version and migrated step by step on open. Times are Unix
// seconds, passed in by the caller. No policy: the CLI decides what to do.
#pragma once
#include "store/entry_keys.hpp"
#include "store/quarantine.hpp"
#include "store/sqlite.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mxw::store {

/// The schema version this code writes.
inline constexpr int quarantine_schema_version = 3;

/// Brings `db` from its user_version to `target` (the current version unless
/// a test wants an old store), one step per version, each step in its own
/// transaction. From version 2 on, the file is also switched to incremental
/// auto-vacuum, with a VACUUM (outside any transaction) when it was not.
/// Throws schema_error for a version above the known one, sqlite_error on
/// failure.
void migrate_quarantine(database& db, int target = quarantine_schema_version);

/// The size limit when quarantine.max-size is not set: 10 GiB or 80 % of
/// what the store may grow into (its file plus the free disk space),
/// whichever is lower. Pure.
std::uint64_t default_max_bytes(std::uint64_t file_bytes, std::uint64_t free_bytes) noexcept;

/// The SQLite backend: one connection; use from one thread. Every method
/// throws sqlite_error (transient() tells whether to retry) or schema_error.
class quarantine_store final : public quarantine {
public:
    /// Opens `path` and migrates it. read_write_create also creates the
    /// directory (0750) and the file (0640), so mail stays readable by the
    /// owner and its group only.
    explicit quarantine_store(const std::string& path, database::mode m = database::mode::read_write_create);

    ingest_result ingest(const new_entry& e, std::int64_t now, std::optional<std::int64_t> returned_id = std::nullopt,
                         std::optional<std::uint64_t> max_bytes = std::nullopt) override;
    std::vector<entry_summary> list(const list_filter& f) override;
    std::vector<entry_summary> page(const list_filter& f, const page_request& p) override;
    std::int64_t count(const list_filter& f) override;
    std::optional<entry_details> find(std::int64_t id) override;
    std::optional<std::string> message(std::int64_t id) override;
    claim_result claim_release(std::int64_t id, const release_claim& mine,
                               const std::function<bool(const release_claim&)>& is_stale) override;
    bool mark_released(std::int64_t id, std::int64_t pid, std::int64_t attempts_at_release, std::int64_t now,
                       std::string_view detail) override;
    void record_release_failure(std::int64_t id, std::int64_t pid, std::int64_t now, std::string_view error) override;
    bool remove(std::int64_t id, std::int64_t now, std::string_view by) override;
    /// Also gives the freed pages back to the file system.
    std::size_t purge(std::int64_t cutoff, bool include_held = false) override;
    std::vector<stats_row> stats() override;
    store_usage usage() override;
    /// `configured`, or unset, default_max_bytes of this file and the free
    /// space of its file system now.
    std::uint64_t max_bytes(std::optional<std::uint64_t> configured) override;

    /// The deliveries entry `id` recognises as repeats, oldest first;
    /// empty for an unknown id. For `mxwarden store migrate`, which must
    /// carry them over: they cannot be computed again from the entry, whose
    /// envelope a returned message changed.
    std::vector<delivery_record> deliveries(std::int64_t id);

    [[nodiscard]] database& db() noexcept { return db_; }

private:
    void add_history(std::int64_t id, std::int64_t at, std::string_view event, std::string_view detail);
    void reclaim_space();
    std::string path_;
    database db_;
};

}  // namespace mxw::store
