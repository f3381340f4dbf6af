#include "store/sqlite.hpp"

#include <sqlite3.h>

namespace mxw::store {
namespace {

[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what)
{
    std::string msg(what);
    msg += ": ";
    msg += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    throw sqlite_error(rc, msg);
}

}  // namespace

bool sqlite_error::transient() const noexcept
{
    switch (code_ & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_NOMEM:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
    case SQLITE_READONLY: return true;  // e.g. a remounted disk; fixable without losing mail
    default: return false;
    }
}

void statement::finalizer::operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
void database::closer::operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }

statement::statement(sqlite3* db, std::string_view sql) : db_(db)
{
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &s, nullptr);
    stmt_.reset(s);
    if (rc != SQLITE_OK)
        fail(db, rc, "prepare");
}

statement& statement::bind(int index, std::string_view text)
{
    int rc = sqlite3_bind_text64(stmt_.get(), index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    if (rc != SQLITE_OK)
        fail(db_, rc, "bind");
    return *this;
}

statement& statement::bind(int index, std::int64_t value)
{
    int rc = sqlite3_bind_int64(stmt_.get(), index, value);
    if (rc != SQLITE_OK)
        fail(db_, rc, "bind");
    return *this;
}

statement& statement::bind_blob(int index, std::string_view bytes)
{
    int rc = sqlite3_bind_blob64(stmt_.get(), index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
    if (rc != SQLITE_OK)
        fail(db_, rc, "bind");
    return *this;
}

statement& statement::bind_null(int index)
{
    int rc = sqlite3_bind_null(stmt_.get(), index);
    if (rc != SQLITE_OK)
        fail(db_, rc, "bind");
    return *this;
}

bool statement::step()
{
    int rc = sqlite3_step(stmt_.get());
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    fail(db_, rc, "step");
}

void statement::run()
{
    while (step()) {
    }
}

void statement::reset()
{
    sqlite3_reset(stmt_.get());
    sqlite3_clear_bindings(stmt_.get());
}

std::string statement::text(int column) const
{
    // Blobs and text both: the message itself is stored as a blob.
    const void* p = sqlite3_column_blob(stmt_.get(), column);
    int n = sqlite3_column_bytes(stmt_.get(), column);
    return p ? std::string(static_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
}

std::int64_t statement::integer(int column) const { return sqlite3_column_int64(stmt_.get(), column); }

bool statement::is_null(int column) const { return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL; }

database::database(const std::string& path, mode m, int busy_timeout_ms, durability d)
{
    int flags = m == mode::read_only    ? SQLITE_OPEN_READONLY
                : m == mode::read_write ? SQLITE_OPEN_READWRITE
                                        : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    // One connection per thread of use: no SQLite-internal mutexes needed.
    flags |= SQLITE_OPEN_NOMUTEX;
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    db_.reset(db);
    if (rc != SQLITE_OK)
        fail(db, rc, "open " + path);
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, busy_timeout_ms);
    if (m != mode::read_only && path != ":memory:") {
        // WAL lets readers (the CLI) run beside writers; synchronous=FULL
        // makes every commit durable before ingest exits 0 (pipe(8)).
        exec("PRAGMA journal_mode=WAL");
        exec(d == durability::full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    }
    exec("PRAGMA foreign_keys=ON");
}

void database::exec(std::string_view sql)
{
    std::string s(sql);
    char* err = nullptr;
    int rc = sqlite3_exec(db_.get(), s.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        throw sqlite_error(rc, "exec: " + msg);
    }
}

std::int64_t database::last_insert_rowid() const noexcept { return sqlite3_last_insert_rowid(db_.get()); }

int database::changes() const noexcept { return sqlite3_changes(db_.get()); }

int database::user_version()
{
    auto st = prepare("PRAGMA user_version");
    return st.step() ? static_cast<int>(st.integer(0)) : 0;
}

void database::set_user_version(int v) { exec("PRAGMA user_version=" + std::to_string(v)); }

transaction::transaction(database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

transaction::~transaction()
{
    if (!done_) {
        try {
            db_.exec("ROLLBACK");
        } catch (const sqlite_error&) {
            // Already rolled back by SQLite (e.g. after SQLITE_FULL).
        }
    }
}

void transaction::commit()
{
    db_.exec("COMMIT");
    done_ = true;
}

}  // namespace mxw::store
