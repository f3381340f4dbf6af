// store/pg.hpp: the small part of libpq mxwarden uses, with ownership, as
// store/sqlite.hpp is for SQLite. Every statement sends its values as
// parameters (no SQL is ever built from data): strings in binary format,
// so bytes arrive exactly (a bytea column takes any byte, a text column
// refuses what its encoding does, rather than libpq cutting a string at a
// NUL), integers as text. Results come in binary format too, so a bytea
// column reads back as its bytes without hex decoding. Every failure is a
// pg_error that says whether to try again later.
#pragma once
#include "store/error.hpp"

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

struct pg_conn;
struct pg_result;

namespace mxw::store {

/// A failed connection or statement. `sqlstate` is the server's five-
/// character code, empty when the failure never reached the server.
class pg_error : public store_error {
public:
    pg_error(std::string sqlstate, bool connection_failed, const std::string& what)
        : store_error(what), sqlstate_(std::move(sqlstate)), connection_failed_(connection_failed)
    {
    }
    [[nodiscard]] const std::string& sqlstate() const noexcept { return sqlstate_; }
    [[nodiscard]] bool connection_failed() const noexcept { return connection_failed_; }
    /// pg_transient of this error.
    [[nodiscard]] bool transient() const noexcept override;

private:
    std::string sqlstate_;
    bool connection_failed_;
};

/// Whether an operation that failed this way may succeed later, so mail
/// must stay queued: the connection failed or broke, or the server says
/// so (class 08 connection exception, 40001 serialization failure, 40P01
/// deadlock, class 53 insufficient resources, 57P01-57P03 shutting down,
/// crashed, starting up). Anything else (a constraint, a bad statement,
/// permissions) needs a person, not a retry. Pure.
bool pg_transient(std::string_view sqlstate, bool connection_failed) noexcept;

/// One statement parameter. Strings are viewed, not copied (a message may
/// be megabytes): the viewed bytes must outlive the exec call. A NULL is
/// never needed: statements spell NULL out.
class pg_param {
public:
    pg_param(std::string_view bytes) noexcept : view_(bytes), binary_(true) {}
    pg_param(const std::string& bytes) noexcept : view_(bytes), binary_(true) {}
    pg_param(std::int64_t value) : owned_(std::to_string(value)), binary_(false) {}

    [[nodiscard]] std::string_view bytes() const noexcept { return binary_ ? view_ : std::string_view(owned_); }
    [[nodiscard]] bool binary() const noexcept { return binary_; }

private:
    std::string owned_;
    std::string_view view_;
    bool binary_;
};

class pg_rows {
public:
    explicit pg_rows(::pg_result* r) noexcept : res_(r) {}

    [[nodiscard]] int rows() const noexcept;
    /// Rows an INSERT, UPDATE or DELETE touched.
    [[nodiscard]] std::int64_t affected() const;
    [[nodiscard]] bool is_null(int row, int column) const noexcept;
    /// The value's bytes: a text or bytea column as stored.
    [[nodiscard]] std::string bytes(int row, int column) const;
    /// A smallint, integer or bigint column (NULL reads as 0).
    [[nodiscard]] std::int64_t integer(int row, int column) const;
    /// A boolean column.
    [[nodiscard]] bool boolean(int row, int column) const;

private:
    struct clearer {
        void operator()(::pg_result* r) const noexcept;
    };
    std::unique_ptr<::pg_result, clearer> res_;
};

class pg_connection {
public:
    /// Connects with a libpq connection string or URI as given (passwords
    /// from PGPASSFILE or passfile=, TLS as its sslmode says). Unless the
    /// string sets them, connect_timeout is 10 s (libpq waits forever by
    /// default, and an ingest must answer the MTA) and application_name is
    /// mxwarden (so a DBA sees who holds a lock). Throws pg_error.
    explicit pg_connection(const std::string& conninfo);

    /// Runs one statement with `params` ($1, $2, ...); throws pg_error.
    pg_rows exec(std::string_view sql, std::span<const pg_param> params);
    pg_rows exec(std::string_view sql, std::initializer_list<pg_param> params = {})
    {
        return exec(sql, std::span<const pg_param>(params.begin(), params.size()));
    }
    /// Runs constant SQL of one or more statements, without parameters
    /// (the schema); throws pg_error.
    void exec_script(std::string_view sql);

private:
    pg_rows check(::pg_result* res);
    struct closer {
        void operator()(pg_conn* c) const noexcept;
    };
    std::unique_ptr<pg_conn, closer> conn_;
};

/// BEGIN at construction; ROLLBACK unless commit() was called.
class pg_transaction {
public:
    explicit pg_transaction(pg_connection& c);
    ~pg_transaction();
    pg_transaction(const pg_transaction&) = delete;
    pg_transaction& operator=(const pg_transaction&) = delete;
    void commit();

private:
    pg_connection& conn_;
    bool done_ = false;
};

}  // namespace mxw::store
