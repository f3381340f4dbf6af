// store/sqlite.hpp: the small part of SQLite mxwarden uses, with ownership.
// Every statement binds its parameters (no SQL is ever built from data);
// every failure is an exception that carries SQLite's result code, so a
// caller can tell "try again later" (busy, disk full, I/O) from a bug.
#pragma once
#include "store/error.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace mxw::store {

class sqlite_error : public store_error {
public:
    sqlite_error(int code, const std::string& what) : store_error(what), code_(code) {}
    [[nodiscard]] int code() const noexcept { return code_; }
    /// Busy or locked database, disk or memory full, I/O error, cannot
    /// open: the operation may succeed later, so mail must stay queued.
    [[nodiscard]] bool transient() const noexcept override;

private:
    int code_;
};

class statement {
public:
    statement(sqlite3* db, std::string_view sql);
    statement(statement&&) noexcept = default;
    statement& operator=(statement&&) noexcept = default;

    /// Parameters are numbered from 1, as in SQLite.
    statement& bind(int index, std::string_view text);
    statement& bind(int index, std::int64_t value);
    statement& bind_blob(int index, std::string_view bytes);
    statement& bind_null(int index);

    /// True while a row is ready; false when the statement is done.
    bool step();
    /// Runs a statement that returns no rows (or ignores them).
    void run();
    void reset();

    [[nodiscard]] std::string text(int column) const;
    [[nodiscard]] std::int64_t integer(int column) const;
    [[nodiscard]] bool is_null(int column) const;

private:
    struct finalizer {
        void operator()(sqlite3_stmt* s) const noexcept;
    };
    sqlite3* db_;
    std::unique_ptr<sqlite3_stmt, finalizer> stmt_;
};

class database {
public:
    enum class mode { read_write_create, read_write, read_only };

    /// full: every commit is on disk before it returns (mail: pipe(8) exit
    /// 0 must mean stored). normal: a power loss may undo the last commits
    /// but never corrupts (WAL); for state that can be found again.
    enum class durability { full, normal };

    /// Opens (or creates) `path` in WAL mode with a busy timeout, so that
    /// several writers (concurrent ingests, the daemon) queue instead of
    /// failing. ":memory:" works for tests.
    database(const std::string& path, mode m, int busy_timeout_ms = 5000, durability d = durability::full);

    void exec(std::string_view sql);
    [[nodiscard]] statement prepare(std::string_view sql) { return statement(db_.get(), sql); }
    [[nodiscard]] std::int64_t last_insert_rowid() const noexcept;
    [[nodiscard]] int changes() const noexcept;
    /// PRAGMA user_version: the schema version, 0 for a new database.
    [[nodiscard]] int user_version();
    void set_user_version(int v);
    [[nodiscard]] sqlite3* handle() const noexcept { return db_.get(); }

private:
    struct closer {
        void operator()(sqlite3* db) const noexcept;
    };
    std::unique_ptr<sqlite3, closer> db_;
};

/// BEGIN IMMEDIATE (takes the write lock at once, so a busy database fails
/// here, before any work); rolls back unless commit() was called.
class transaction {
public:
    explicit transaction(database& db);
    ~transaction();
    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;
    void commit();

private:
    database& db_;
    bool done_ = false;
};

}  // namespace mxw::store
