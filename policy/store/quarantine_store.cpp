#include "store/quarantine_store.hpp"

#include "proto/mail_address.hpp"
#include "proto/sanitize.hpp"
#include "store/entry_keys.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <iterator>
#include <limits>
#include <set>
#include <sqlite3.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <variant>

namespace mxw::store {
namespace {

// Version 1. Message bodies live in their own table: a row holding a large
// blob fills whole pages of its table, so listing 100 000 entries would read
// a page per entry; with the bodies apart, summaries pack densely and a
// listing never touches a body. Recipients are a table of their own so the
// --domain filter is an index lookup; the first one and the count are kept
// in the entry for listing without a join. Every delivery's fingerprint is
// kept (not just the latest), so any repeat of any earlier delivery is
// recognised. AUTOINCREMENT: an id is never reused after a purge, because
// a released message carries its id and must not find a stranger's entry.
constexpr std::string_view schema_v1 = R"sql(
CREATE TABLE entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('held', 'released', 'deleted')),
    reason TEXT NOT NULL,
    reason_text TEXT NOT NULL DEFAULT '',
    queue_id TEXT NOT NULL DEFAULT '',
    sender TEXT NOT NULL,
    first_recipient TEXT NOT NULL,
    recipient_count INTEGER NOT NULL,
    size INTEGER NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    header_from TEXT NOT NULL DEFAULT '',
    message_id TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 1,
    evidence TEXT NOT NULL DEFAULT ''
);
CREATE TABLE messages (
    entry_id INTEGER PRIMARY KEY REFERENCES entries(id) ON DELETE CASCADE,
    body BLOB NOT NULL
);
CREATE TABLE recipients (
    entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    domain TEXT NOT NULL
);
CREATE TABLE history (
    entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    event TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE TABLE deliveries (
    fingerprint TEXT PRIMARY KEY,
    entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
    at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX entries_created ON entries (created);
CREATE INDEX entries_reason ON entries (reason, created);
CREATE INDEX entries_state ON entries (state, created);
CREATE INDEX entries_state_updated ON entries (state, updated);
CREATE INDEX recipients_domain ON recipients (domain, entry_id);
CREATE INDEX recipients_entry ON recipients (entry_id);
CREATE INDEX history_entry ON history (entry_id, at);
CREATE INDEX deliveries_entry ON deliveries (entry_id);
)sql";

// Version 2: the state 'releasing' and the claim of the release process
// holding it (pid and time, both set exactly while releasing). SQLite cannot
// change a CHECK constraint in place, so the table is rebuilt the way its
// documentation describes (new table, copy, drop, rename) with foreign keys
// off, or dropping the old table would cascade to every body and history.
constexpr std::string_view schema_v2 = R"sql(
CREATE TABLE entries_v2 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('held', 'releasing', 'released', 'deleted')),
    reason TEXT NOT NULL,
    reason_text TEXT NOT NULL DEFAULT '',
    queue_id TEXT NOT NULL DEFAULT '',
    sender TEXT NOT NULL,
    first_recipient TEXT NOT NULL,
    recipient_count INTEGER NOT NULL,
    size INTEGER NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    header_from TEXT NOT NULL DEFAULT '',
    message_id TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 1,
    evidence TEXT NOT NULL DEFAULT '',
    claim_pid INTEGER,
    claim_at INTEGER,
    CHECK ((state = 'releasing') = (claim_pid IS NOT NULL AND claim_at IS NOT NULL))
);
INSERT INTO entries_v2 (id, created, updated, state, reason, reason_text, queue_id, sender, first_recipient,
                        recipient_count, size, subject, header_from, message_id, attempts, evidence)
    SELECT id, created, updated, state, reason, reason_text, queue_id, sender, first_recipient,
           recipient_count, size, subject, header_from, message_id, attempts, evidence FROM entries;
DROP TABLE entries;
ALTER TABLE entries_v2 RENAME TO entries;
CREATE INDEX entries_created ON entries (created);
CREATE INDEX entries_reason ON entries (reason, created);
CREATE INDEX entries_state ON entries (state, created);
CREATE INDEX entries_state_updated ON entries (state, updated);
)sql";

// Version 3: indexes for the web view, which pages newest first through
// 100 000 entries and filters them. Additive only, so an older mxwarden
// still reads and writes a migrated file (it just does not use them):
//  - (state) and (reason) end in the rowid, so "held, newest first" walks
//    one index backwards and stops after a page, where (state, created)
//    would need every held entry sorted;
//  - lower(sender) makes the case-blind sender filter a lookup (SQLite's
//    lower() folds ASCII only, as proto::to_lower does).
constexpr std::string_view schema_v3 = R"sql(
CREATE INDEX entries_state_id ON entries (state);
CREATE INDEX entries_reason_id ON entries (reason);
CREATE INDEX entries_sender_lower ON entries (lower(sender));
)sql";

// steps[v] takes a database from version v to v + 1. Version 4 appends its
// step here; released code never edits an earlier one.
void to_v1(database& db) { db.exec(schema_v1); }
void to_v2(database& db)
{
    // Dropping the table drops its AUTOINCREMENT high-water mark; without
    // it an id purged before the migration could be handed out again, and
    // a released message carrying that id would find a stranger's entry.
    std::int64_t high = 0;
    {
        auto st = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'entries'");
        if (st.step())
            high = st.integer(0);
    }
    db.exec(schema_v2);
    db.prepare("UPDATE sqlite_sequence SET seq = max(seq, ?1) WHERE name = 'entries'").bind(1, high).run();
    if (db.changes() == 0)
        db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('entries', ?1)").bind(1, high).run();
    auto check = db.prepare("PRAGMA foreign_key_check");
    if (check.step())
        throw schema_error("the quarantine store has rows without their entry (table " + check.text(0) +
                           "); not migrated");
}
void to_v3(database& db) { db.exec(schema_v3); }
constexpr void (*steps[])(database&) = {to_v1, to_v2, to_v3};
static_assert(std::size(steps) == quarantine_schema_version);

// Foreign keys off for the length of a migration (SQLite ignores the
// pragma inside a transaction, so it cannot be part of a step).
class foreign_keys_off {
public:
    explicit foreign_keys_off(database& db) : db_(db) { db_.exec("PRAGMA foreign_keys=OFF"); }
    ~foreign_keys_off()
    {
        try {
            db_.exec("PRAGMA foreign_keys=ON");
        } catch (const sqlite_error&) {
            // Only fails inside an open transaction, which the steps never
            // leave behind; the connection is unusable then anyway.
        }
    }
    foreign_keys_off(const foreign_keys_off&) = delete;
    foreign_keys_off& operator=(const foreign_keys_off&) = delete;

private:
    database& db_;
};

std::int64_t pragma_integer(database& db, std::string_view pragma)
{
    auto st = db.prepare("PRAGMA " + std::string(pragma));
    return st.step() ? st.integer(0) : 0;
}

// Incremental auto-vacuum lets purge and delete give pages back with a
// cheap PRAGMA incremental_vacuum proportional to what was freed; a full
// VACUUM after each purge would rewrite the whole store (minutes for
// gigabytes, twice its size on disk meanwhile) under an exclusive lock.
// Switching an existing file needs one VACUUM; a new one gets it for the
// price of an empty file.
//
// The switch never stands between the MTA and the store: VACUUM needs free
// space about the store's size and the write lock for as long as it runs,
// so with too little space, or when it cannot get the lock or finish, the
// store is used as it is (it just does not shrink yet) and the next opener
// that has the room tries again.
void switch_to_incremental_vacuum(database& db)
{
    constexpr std::int64_t incremental = 2;
    if (pragma_integer(db, "auto_vacuum") == incremental)
        return;
    const char* file = sqlite3_db_filename(db.handle(), "main");
    if (file && *file) {
        struct statvfs vfs {};
        auto bytes = static_cast<std::uint64_t>(pragma_integer(db, "page_count")) *
                     static_cast<std::uint64_t>(pragma_integer(db, "page_size"));
        if (::statvfs(file, &vfs) != 0 || static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize < bytes + bytes / 4)
            return;
    }
    try {
        db.exec("PRAGMA auto_vacuum=INCREMENTAL");
        db.exec("VACUUM");
    } catch (const sqlite_error& e) {
        if (!e.transient())
            throw;
    }
}

// The file and its directory are made before SQLite opens them: SQLite
// creates files 0644, which would let every local user read quarantined
// mail. The WAL and shared-memory files SQLite makes later copy the mode
// (and, for root, the owner) of the database file.
const std::string& create_private(const std::string& path, database::mode m)
{
    if (m != database::mode::read_write_create || path == ":memory:" || path.empty())
        return path;
    std::filesystem::path p(path);
    std::error_code ec;
    if (p.has_parent_path() && !std::filesystem::exists(p.parent_path(), ec)) {
        std::filesystem::create_directories(p.parent_path(), ec);
        if (!ec)
            std::filesystem::permissions(p.parent_path(), std::filesystem::perms(0750), ec);
        if (ec)
            throw sqlite_error(SQLITE_CANTOPEN, "cannot create " + p.parent_path().string() + ": " + ec.message());
    }
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd >= 0) {
        ::close(fd);
    } else if (errno != EEXIST) {
        throw sqlite_error(SQLITE_CANTOPEN, "cannot create " + path + ": " + std::strerror(errno));
    }
    return path;
}

entry_state state_of(const std::string& s)
{
    auto st = parse_entry_state(s);
    if (!st)
        throw schema_error("unknown entry state '" + proto::sanitize(s) + "' in the quarantine store");
    return *st;
}

constexpr std::string_view summary_columns =
    "id, created, updated, state, reason, sender, first_recipient, recipient_count, size, subject, attempts";

entry_summary read_summary(const statement& st)
{
    entry_summary s;
    s.id = st.integer(0);
    s.created = st.integer(1);
    s.updated = st.integer(2);
    s.state = state_of(st.text(3));
    s.reason = st.text(4);
    s.sender = st.text(5);
    s.first_recipient = st.text(6);
    s.recipient_count = st.integer(7);
    s.size = st.integer(8);
    s.subject = st.text(9);
    s.attempts = st.integer(10);
    return s;
}

// A list_filter as SQL: a condition made of constant fragments only and
// the values it binds as ?1, ?2, ... in order. One condition per filter
// combination lets SQLite pick the matching index.
struct sql_filter {
    std::string where = "1";
    std::vector<std::variant<std::int64_t, std::string>> values;

    std::string next(std::variant<std::int64_t, std::string> v)
    {
        values.push_back(std::move(v));
        return "?" + std::to_string(values.size());
    }
    void bind(statement& st) const
    {
        int i = 0;
        for (const auto& v : values) {
            ++i;
            if (const auto* n = std::get_if<std::int64_t>(&v))
                st.bind(i, *n);
            else
                st.bind(i, std::get<std::string>(v));
        }
    }
};

sql_filter where_of(const list_filter& f)
{
    sql_filter q;
    if (f.state)
        q.where += " AND state = " + q.next(std::string(to_string(*f.state)));
    if (f.reason)
        q.where += " AND reason = " + q.next(*f.reason);
    if (f.since)
        q.where += " AND created >= " + q.next(*f.since);
    if (f.domain)
        q.where += " AND id IN (SELECT entry_id FROM recipients WHERE domain = " +
                   q.next(proto::to_lower(*f.domain)) + ")";
    if (f.sender)
        q.where += " AND lower(sender) = " + q.next(proto::to_lower(*f.sender));
    if (f.text) {
        // SQLite's LIKE is case-blind for ASCII already. The recipients'
        // subquery does not depend on the row, so it runs once.
        auto p = q.next(substring_pattern(*f.text));
        q.where += " AND (sender LIKE " + p + " ESCAPE '\\' OR subject LIKE " + p +
                   " ESCAPE '\\' OR id IN (SELECT entry_id FROM recipients WHERE address LIKE " + p +
                   " ESCAPE '\\'))";
    }
    if (f.only_domains) {
        auto set = domain_set(*f.only_domains);
        if (set.empty()) {
            q.where += " AND 0";
        } else {
            // Some recipient in the set (an index lookup per domain) and,
            // for those candidates only, none outside it (their own few
            // recipients): NOT IN over a subquery would read every
            // recipient of the store. Recipients are stored with their
            // domain lowered.
            std::string in;
            for (const auto& d : set)
                in += (in.empty() ? "" : ", ") + q.next(d);
            q.where += " AND id IN (SELECT entry_id FROM recipients WHERE domain IN (" + in +
                       ")) AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.entry_id = entries.id"
                       " AND r.domain NOT IN (" + in + "))";
        }
    }
    return q;
}

void insert_recipients(database& db, std::int64_t id, const std::vector<std::string>& rcpts)
{
    auto st = db.prepare("INSERT INTO recipients (entry_id, address, domain) VALUES (?1, ?2, ?3)");
    for (const auto& r : rcpts) {
        st.reset();
        st.bind(1, id).bind(2, r).bind(3, proto::address_domain(r)).run();
    }
}

}  // namespace

std::string_view to_string(entry_state s) noexcept
{
    switch (s) {
    case entry_state::held: return "held";
    case entry_state::releasing: return "releasing";
    case entry_state::released: return "released";
    case entry_state::deleted: return "deleted";
    }
    return "held";
}

std::optional<entry_state> parse_entry_state(std::string_view s) noexcept
{
    if (s == "held") return entry_state::held;
    if (s == "releasing") return entry_state::releasing;
    if (s == "released") return entry_state::released;
    if (s == "deleted") return entry_state::deleted;
    return std::nullopt;
}

void migrate_quarantine(database& db, int target)
{
    if (target < 1 || target > quarantine_schema_version)
        throw std::invalid_argument("migrate_quarantine: no schema version " + std::to_string(target));
    if (db.user_version() == target) {
        // A migration to 2 that committed but crashed (or was refused a
        // lock) before its VACUUM finishes it here. Read-only openers only
        // read and leave that to the next writer.
        if (target >= 2 && !sqlite3_db_readonly(db.handle(), "main"))
            switch_to_incremental_vacuum(db);
        return;
    }
    foreign_keys_off fk(db);
    for (;;) {
        int v = db.user_version();
        if (v == target)
            break;
        if (v > quarantine_schema_version || v < 0)
            throw schema_error("the quarantine store has schema version " + std::to_string(v) +
                               "; this mxwarden knows versions up to " + std::to_string(quarantine_schema_version) +
                               " (was it written by a newer mxwarden?)");
        transaction t(db);
        // Another process (a concurrent ingest) may have migrated between
        // the check and the write lock; look again under the lock.
        if (db.user_version() != v)
            continue;
        if (v > target)
            throw schema_error("cannot migrate the quarantine store back from version " + std::to_string(v));
        steps[v](db);
        db.set_user_version(v + 1);
        t.commit();
    }
    if (target >= 2)
        switch_to_incremental_vacuum(db);
}

quarantine_full::quarantine_full(std::uint64_t used, std::uint64_t limit)
    : store_error("quarantine full (" + std::to_string(used) + " bytes in use, limit " + std::to_string(limit) +
                         ")"),
      used_(used),
      limit_(limit)
{
}

std::uint64_t default_max_bytes(std::uint64_t file_bytes, std::uint64_t free_bytes) noexcept
{
    constexpr std::uint64_t cap = 10ULL << 30;
    // Past cap * 5/4 the answer is the cap; below it, times 4 cannot
    // overflow (nor can the sum, once each part is checked).
    if (file_bytes >= cap / 4 * 5 || free_bytes >= cap / 4 * 5 || file_bytes + free_bytes >= cap / 4 * 5)
        return cap;
    return (file_bytes + free_bytes) * 4 / 5;
}

quarantine_store::quarantine_store(const std::string& path, database::mode m)
    : path_(path), db_(create_private(path, m), m)
{
    migrate_quarantine(db_);
}

void quarantine_store::add_history(std::int64_t id, std::int64_t at, std::string_view event, std::string_view detail)
{
    db_.prepare("INSERT INTO history (entry_id, at, event, detail) VALUES (?1, ?2, ?3, ?4)")
        .bind(1, id)
        .bind(2, at)
        .bind(3, event)
        .bind(4, detail)
        .run();
}

ingest_result quarantine_store::ingest(const new_entry& e, std::int64_t now, std::optional<std::int64_t> returned_id,
                                      std::optional<std::uint64_t> max_bytes)
{
    if (e.recipients.empty())
        throw std::invalid_argument("quarantine_store::ingest: no recipient");
    const std::string fp = delivery_fingerprint(e);
    const auto size = static_cast<std::int64_t>(e.message.size());
    transaction t(db_);
    {
        auto st = db_.prepare("SELECT entry_id FROM deliveries WHERE fingerprint = ?1");
        st.bind(1, fp);
        if (st.step())
            return {ingest_result::kind::duplicate, st.integer(0)};
    }
    auto remember = [&](std::int64_t id) {
        db_.prepare("INSERT INTO deliveries (fingerprint, entry_id, at) VALUES (?1, ?2, ?3)")
            .bind(1, fp)
            .bind(2, id)
            .bind(3, now)
            .run();
    };
    std::string detail = "reason=" + e.reason + " queue_id=" + e.queue_id + " size=" + std::to_string(size);

    if (returned_id) {
        bool fits = false;
        std::string state;
        {
            auto st = db_.prepare("SELECT state, sender FROM entries WHERE id = ?1");
            st.bind(1, *returned_id);
            fits = st.step() && st.text(0) != "deleted" && st.text(1) == e.sender;
            state = fits ? st.text(0) : std::string();
        }
        std::vector<std::string> known;
        if (fits) {
            auto r = db_.prepare("SELECT address FROM recipients WHERE entry_id = ?1 ORDER BY rowid");
            r.bind(1, *returned_id);
            while (r.step())
                known.push_back(r.text(0));
            std::set<std::string> lower;
            for (const auto& k : known)
                lower.insert(proto::to_lower(k));
            fits = std::all_of(e.recipients.begin(), e.recipients.end(),
                               [&](const std::string& a) { return lower.count(proto::to_lower(a)) != 0; });
        }
        if (fits) {
            // Released, the message went to every recipient; those that
            // come back are the ones still undelivered, so they become the
            // entry's recipients and a second release reaches only them.
            // Already held again (another part came back first) or still
            // releasing (it came back before the release was recorded):
            // keep the whole list, which may deliver twice to someone but
            // never skips anyone. The claim goes: the entry is held again,
            // and its release sees the new attempt count.
            std::vector<std::string> rcpts = state == "released" ? e.recipients : known;
            db_.prepare("DELETE FROM recipients WHERE entry_id = ?1").bind(1, *returned_id).run();
            insert_recipients(db_, *returned_id, rcpts);
            db_.prepare(
                   "UPDATE entries SET state = 'held', claim_pid = NULL, claim_at = NULL, updated = ?2, reason = ?3,"
                   " reason_text = ?4, queue_id = ?5,"
                   " evidence = CASE WHEN ?6 = '' THEN evidence ELSE ?6 END, attempts = attempts + 1,"
                   " first_recipient = ?7, recipient_count = ?8 WHERE id = ?1")
                .bind(1, *returned_id)
                .bind(2, now)
                .bind(3, e.reason)
                .bind(4, e.reason_text)
                .bind(5, e.queue_id)
                .bind(6, e.evidence)
                .bind(7, rcpts.front())
                .bind(8, static_cast<std::int64_t>(rcpts.size()))
                .run();
            add_history(*returned_id, now, "returned", detail);
            remember(*returned_id);
            t.commit();
            return {ingest_result::kind::returned, *returned_id};
        }
    }

    if (max_bytes) {
        // Checked under the write lock, so concurrent ingests cannot each
        // find room for one more and overshoot together. The body's own
        // pages are counted at its length; the row and index overhead is
        // noise beside it.
        auto used = usage().used_bytes;
        if (used + e.message.size() > *max_bytes)
            throw quarantine_full(used, *max_bytes);
    }
    db_.prepare(
           "INSERT INTO entries (created, updated, state, reason, reason_text, queue_id, sender, first_recipient,"
           " recipient_count, size, subject, header_from, message_id, attempts, evidence)"
           " VALUES (?1, ?1, 'held', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 1, ?12)")
        .bind(1, now)
        .bind(2, e.reason)
        .bind(3, e.reason_text)
        .bind(4, e.queue_id)
        .bind(5, e.sender)
        .bind(6, e.recipients.front())
        .bind(7, static_cast<std::int64_t>(e.recipients.size()))
        .bind(8, size)
        .bind(9, summary_field(e.message, "Subject"))
        .bind(10, summary_field(e.message, "From"))
        .bind(11, summary_field(e.message, "Message-ID"))
        .bind(12, e.evidence)
        .run();
    std::int64_t id = db_.last_insert_rowid();
    db_.prepare("INSERT INTO messages (entry_id, body) VALUES (?1, ?2)").bind(1, id).bind_blob(2, e.message).run();
    insert_recipients(db_, id, e.recipients);
    add_history(id, now, "quarantined", detail);
    remember(id);
    t.commit();
    return {ingest_result::kind::stored, id};
}

std::vector<entry_summary> quarantine_store::list(const list_filter& f)
{
    auto q = where_of(f);
    auto st = db_.prepare("SELECT " + std::string(summary_columns) + " FROM entries WHERE " + q.where + " ORDER BY id");
    q.bind(st);
    std::vector<entry_summary> out;
    while (st.step())
        out.push_back(read_summary(st));
    return out;
}

std::vector<entry_summary> quarantine_store::page(const list_filter& f, const page_request& p)
{
    auto q = where_of(f);
    if (p.before_id)
        q.where += " AND id < " + q.next(*p.before_id);
    auto limit = q.next(static_cast<std::int64_t>(std::min(p.limit, max_page_entries)));
    auto st = db_.prepare("SELECT " + std::string(summary_columns) + " FROM entries WHERE " + q.where +
                          " ORDER BY id DESC LIMIT " + limit);
    q.bind(st);
    std::vector<entry_summary> out;
    while (st.step())
        out.push_back(read_summary(st));
    return out;
}

std::int64_t quarantine_store::count(const list_filter& f)
{
    auto q = where_of(f);
    auto st = db_.prepare("SELECT count(*) FROM entries WHERE " + q.where);
    q.bind(st);
    return st.step() ? st.integer(0) : 0;
}

std::optional<entry_details> quarantine_store::find(std::int64_t id)
{
    auto st = db_.prepare("SELECT " + std::string(summary_columns) +
                          ", reason_text, queue_id, header_from, message_id, evidence,"
                          " EXISTS (SELECT 1 FROM messages WHERE entry_id = id) FROM entries WHERE id = ?1");
    st.bind(1, id);
    if (!st.step())
        return std::nullopt;
    entry_details d;
    d.summary = read_summary(st);
    d.reason_text = st.text(11);
    d.queue_id = st.text(12);
    d.header_from = st.text(13);
    d.message_id = st.text(14);
    d.evidence = st.text(15);
    d.has_message = st.integer(16) != 0;
    auto r = db_.prepare("SELECT address FROM recipients WHERE entry_id = ?1 ORDER BY rowid");
    r.bind(1, id);
    while (r.step())
        d.recipients.push_back(r.text(0));
    auto h = db_.prepare("SELECT at, event, detail FROM history WHERE entry_id = ?1 ORDER BY at, rowid");
    h.bind(1, id);
    while (h.step())
        d.history.push_back({h.integer(0), h.text(1), h.text(2)});
    return d;
}

std::optional<std::string> quarantine_store::message(std::int64_t id)
{
    auto st = db_.prepare("SELECT body FROM messages WHERE entry_id = ?1");
    st.bind(1, id);
    if (!st.step())
        return std::nullopt;
    return st.text(0);
}

std::vector<delivery_record> quarantine_store::deliveries(std::int64_t id)
{
    auto st = db_.prepare("SELECT fingerprint, at FROM deliveries WHERE entry_id = ?1 ORDER BY at, fingerprint");
    st.bind(1, id);
    std::vector<delivery_record> out;
    while (st.step())
        out.push_back({st.text(0), st.integer(1)});
    return out;
}

claim_result quarantine_store::claim_release(std::int64_t id, const release_claim& mine,
                                            const std::function<bool(const release_claim&)>& is_stale)
{
    transaction t(db_);
    auto st = db_.prepare("SELECT state, claim_pid, claim_at FROM entries WHERE id = ?1");
    st.bind(1, id);
    if (!st.step())
        return {};
    claim_result r;
    r.state = state_of(st.text(0));
    if (r.state == entry_state::released || r.state == entry_state::deleted) {
        r.what = claim_result::kind::not_held;
        return r;
    }
    std::string detail = "pid=" + std::to_string(mine.pid);
    if (r.state == entry_state::releasing) {
        r.holder = release_claim{st.integer(1), st.integer(2)};
        if (!is_stale(*r.holder)) {
            r.what = claim_result::kind::busy;
            return r;
        }
        // The claimer died after the claim: whether the MTA got the message
        // before that is unknown. Sending again may duplicate it, leaving it
        // would lose it; the history tells the admin which happened.
        detail += " took over the claim of pid=" + std::to_string(r.holder->pid) + " from " +
                  std::to_string(r.holder->at) + " (it may have sent the message)";
    }
    db_.prepare("UPDATE entries SET state = 'releasing', claim_pid = ?2, claim_at = ?3, updated = ?3 WHERE id = ?1")
        .bind(1, id)
        .bind(2, mine.pid)
        .bind(3, mine.at)
        .run();
    add_history(id, mine.at, "releasing", detail);
    t.commit();
    r.what = claim_result::kind::claimed;
    return r;
}

bool quarantine_store::mark_released(std::int64_t id, std::int64_t pid, std::int64_t attempts_at_release,
                                     std::int64_t now, std::string_view detail)
{
    transaction t(db_);
    db_.prepare("UPDATE entries SET state = 'released', claim_pid = NULL, claim_at = NULL, updated = ?2"
                " WHERE id = ?1 AND attempts = ?3 AND state = 'releasing' AND claim_pid = ?4")
        .bind(1, id)
        .bind(2, now)
        .bind(3, attempts_at_release)
        .bind(4, pid)
        .run();
    bool changed = db_.changes() > 0;
    auto st = db_.prepare("SELECT state FROM entries WHERE id = ?1");
    st.bind(1, id);
    if (!st.step())
        return false;
    // The MTA took the message, but it failed again and came back before
    // this update (the entry is rightly held), or an admin deleted it, or a
    // release that thought us dead took it over: only the history changes.
    std::string note;
    if (!changed)
        note = st.text(0) == "held" ? " (it has come back since)" : " (it is " + st.text(0) + " now)";
    add_history(id, now, "released", std::string(detail) + note);
    t.commit();
    return true;
}

void quarantine_store::record_release_failure(std::int64_t id, std::int64_t pid, std::int64_t now,
                                              std::string_view error)
{
    transaction t(db_);
    db_.prepare("UPDATE entries SET state = 'held', claim_pid = NULL, claim_at = NULL, updated = ?2"
                " WHERE id = ?1 AND state = 'releasing' AND claim_pid = ?3")
        .bind(1, id)
        .bind(2, now)
        .bind(3, pid)
        .run();
    add_history(id, now, "release-failed", error);
    t.commit();
}

bool quarantine_store::remove(std::int64_t id, std::int64_t now, std::string_view by)
{
    transaction t(db_);
    db_.prepare("UPDATE entries SET state = 'deleted', claim_pid = NULL, claim_at = NULL, updated = ?2"
                " WHERE id = ?1 AND state != 'deleted'")
        .bind(1, id)
        .bind(2, now)
        .run();
    if (db_.changes() == 0)
        return false;
    db_.prepare("DELETE FROM messages WHERE entry_id = ?1").bind(1, id).run();
    add_history(id, now, "deleted", deleted_detail(by));
    t.commit();
    reclaim_space();
    return true;
}

std::size_t quarantine_store::purge(std::int64_t cutoff, bool include_held)
{
    transaction t(db_);
    // ON DELETE CASCADE removes the body, recipients, history and
    // fingerprints with the entry.
    db_.prepare(include_held ? "DELETE FROM entries WHERE updated < ?1"
                             : "DELETE FROM entries WHERE state IN ('released', 'deleted') AND updated < ?1")
        .bind(1, cutoff)
        .run();
    auto n = static_cast<std::size_t>(db_.changes());
    t.commit();
    if (n > 0)
        reclaim_space();
    return n;
}

void quarantine_store::reclaim_space()
{
    try {
        // Gives the free pages back (the file ends at its last used page),
        // then copies the WAL into the file and empties it, so the space
        // shows on the disk now rather than at the next automatic
        // checkpoint.
        db_.exec("PRAGMA incremental_vacuum");
        db_.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch (const sqlite_error&) {
        // The entries are gone already (committed); only the space waits
        // for the next purge or delete if the store is busy now.
    }
}

store_usage quarantine_store::usage()
{
    auto page = static_cast<std::uint64_t>(pragma_integer(db_, "page_size"));
    auto pages = static_cast<std::uint64_t>(pragma_integer(db_, "page_count"));
    auto free_pages = static_cast<std::uint64_t>(pragma_integer(db_, "freelist_count"));
    return {pages * page, (pages - std::min(pages, free_pages)) * page};
}

std::uint64_t quarantine_store::max_bytes(std::optional<std::uint64_t> configured)
{
    if (configured)
        return *configured;
    // A store in memory (tests) is bounded by the 10 GiB cap alone.
    std::uint64_t free_bytes = std::numeric_limits<std::uint64_t>::max();
    if (path_ != ":memory:" && !path_.empty()) {
        struct statvfs vfs {};
        auto dir = std::filesystem::path(path_).parent_path();
        if (::statvfs(dir.empty() ? "." : dir.c_str(), &vfs) != 0)
            throw sqlite_error(SQLITE_IOERR, "cannot measure the free space under " + dir.string() + ": " +
                                                 std::strerror(errno));
        // f_bavail, not f_bfree: the blocks reserved for root are not
        // room the ingest user can write to.
        free_bytes = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    }
    return default_max_bytes(usage().file_bytes, free_bytes);
}

std::vector<stats_row> quarantine_store::stats()
{
    // A deleted entry's body is gone: it counts, but its bytes do not.
    auto st = db_.prepare(
        "SELECT state, reason, count(*), sum(CASE WHEN state = 'deleted' THEN 0 ELSE size END)"
        " FROM entries GROUP BY state, reason ORDER BY state, reason");
    std::vector<stats_row> out;
    while (st.step())
        out.push_back({state_of(st.text(0)), st.text(1), st.integer(2), st.integer(3)});
    return out;
}

}  // namespace mxw::store
