#include "store/pg.hpp"

#include <charconv>
#include <climits>
#include <libpq-fe.h>
#include <vector>

namespace mxw::store {
namespace {

// OIDs of the integer types (pg_type.dat; fixed since PostgreSQL 7).
constexpr Oid int8_oid = 20;
constexpr Oid int2_oid = 21;
constexpr Oid int4_oid = 23;
constexpr Oid bool_oid = 16;

// libpq's messages span lines ("...failed: ...\n\tIs the server running
// ...?\n"); ours go on one line, in a log line, a pipe(8) reply or doctor's.
std::string message_of(const char* libpq_text)
{
    std::string m;
    for (const char* p = libpq_text ? libpq_text : ""; *p; ++p) {
        if (*p == '\n' || *p == '\t') {
            if (!m.empty() && m.back() != ' ')
                m += *p == '\n' ? "; " : " ";
        } else {
            m += *p;
        }
    }
    while (!m.empty() && (m.back() == ' ' || m.back() == ';'))
        m.pop_back();
    return m;
}

// Binary integers come in network byte order.
std::int64_t big_endian(const char* p, int n) noexcept
{
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i)
        v = v << 8 | static_cast<unsigned char>(p[i]);
    // Sign-extend the narrower types.
    int shift = 64 - 8 * n;
    return static_cast<std::int64_t>(v << shift) >> shift;
}

}  // namespace

bool pg_transient(std::string_view sqlstate, bool connection_failed) noexcept
{
    if (connection_failed)
        return true;
    auto cls = sqlstate.substr(0, 2);
    // 57014: the statement_timeout every connection sets (a server too
    // slow now, or a lock held too long) — try again later.
    return cls == "08" || cls == "53" || sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "57014" ||
           sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03";
}

bool pg_error::transient() const noexcept { return pg_transient(sqlstate_, connection_failed_); }

void pg_rows::clearer::operator()(::pg_result* r) const noexcept { PQclear(r); }
void pg_connection::closer::operator()(pg_conn* c) const noexcept { PQfinish(c); }

int pg_rows::rows() const noexcept { return PQntuples(res_.get()); }

std::int64_t pg_rows::affected() const
{
    std::string_view n = PQcmdTuples(res_.get());
    std::int64_t v = 0;
    std::from_chars(n.data(), n.data() + n.size(), v);
    return v;
}

bool pg_rows::is_null(int row, int column) const noexcept { return PQgetisnull(res_.get(), row, column) != 0; }

std::string pg_rows::bytes(int row, int column) const
{
    return std::string(PQgetvalue(res_.get(), row, column),
                       static_cast<std::size_t>(PQgetlength(res_.get(), row, column)));
}

std::int64_t pg_rows::integer(int row, int column) const
{
    if (is_null(row, column))
        return 0;
    Oid type = PQftype(res_.get(), column);
    int n = PQgetlength(res_.get(), row, column);
    if (!((type == int8_oid && n == 8) || (type == int4_oid && n == 4) || (type == int2_oid && n == 2)))
        throw pg_error("", false, "column " + std::to_string(column) + " is not an integer (type oid " +
                                      std::to_string(type) + ")");
    return big_endian(PQgetvalue(res_.get(), row, column), n);
}

bool pg_rows::boolean(int row, int column) const
{
    if (PQftype(res_.get(), column) != bool_oid || PQgetlength(res_.get(), row, column) != 1)
        throw pg_error("", false, "column " + std::to_string(column) + " is not a boolean");
    return *PQgetvalue(res_.get(), row, column) != 0;
}

pg_connection::pg_connection(const std::string& conninfo)
{
    // libpq lets a later keyword override an earlier one, and expands the
    // dbname value as a whole connection string or URI: our defaults go
    // first, so whatever the string sets wins. A server that hangs rather
    // than refuses must not hold an ingest (and the MTA's pipe) for long:
    // statements give up after 60 s, and TCP keepalives find a dead peer
    // within about a minute instead of the kernel's two hours.
    const char* keywords[] = {"connect_timeout", "application_name", "options", "keepalives_idle",
                              "keepalives_interval", "keepalives_count", "dbname", nullptr};
    const char* values[] = {"10", "mxwarden", "-c statement_timeout=60s", "30", "10", "3", conninfo.c_str(), nullptr};
    conn_.reset(PQconnectdbParams(keywords, values, 1));
    if (!conn_)
        throw pg_error("", true, "PostgreSQL: out of memory");
    if (PQstatus(conn_.get()) != CONNECTION_OK)
        throw pg_error("", true, "PostgreSQL: " + message_of(PQerrorMessage(conn_.get())));
    // libpq prints the server's notices ("schema already exists,
    // skipping") on stderr, where the CLI's own messages go; errors are
    // what matters, and they come as exceptions.
    PQsetNoticeProcessor(conn_.get(), [](void*, const char*) {}, nullptr);
}

pg_rows pg_connection::exec(std::string_view sql, std::span<const pg_param> params)
{
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;
    values.reserve(params.size());
    lengths.reserve(params.size());
    formats.reserve(params.size());
    for (const auto& p : params) {
        auto b = p.bytes();
        // bytea ends at 1 GB anyway; this only keeps the int honest.
        if (b.size() > INT_MAX)
            throw pg_error("54000", false, "PostgreSQL: a parameter of " + std::to_string(b.size()) +
                                               " bytes is too long");
        values.push_back(b.data());
        lengths.push_back(static_cast<int>(b.size()));
        formats.push_back(p.binary() ? 1 : 0);
    }
    std::string text(sql);
    return check(PQexecParams(conn_.get(), text.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                              lengths.data(), formats.data(), 1));
}

void pg_connection::exec_script(std::string_view sql)
{
    std::string text(sql);
    check(PQexec(conn_.get(), text.c_str()));
}

pg_rows pg_connection::check(::pg_result* res)
{
    pg_rows r(res);
    auto status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        return r;
    // Every error the server reports has a SQLSTATE; without a result, or
    // with the connection marked bad, libpq never got an answer: the
    // server went away or the network broke.
    const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    bool broken = !res || PQstatus(conn_.get()) == CONNECTION_BAD;
    std::string what = res ? message_of(PQresultErrorMessage(res)) : std::string();
    if (what.empty())
        what = message_of(PQerrorMessage(conn_.get()));
    throw pg_error(state ? state : "", broken, "PostgreSQL: " + what);
}

pg_transaction::pg_transaction(pg_connection& c) : conn_(c) { conn_.exec("BEGIN"); }

pg_transaction::~pg_transaction()
{
    if (!done_) {
        try {
            conn_.exec("ROLLBACK");
        } catch (const pg_error&) {
            // The connection is gone, and the server rolled back with it.
        }
    }
}

void pg_transaction::commit()
{
    conn_.exec("COMMIT");
    done_ = true;
}

}  // namespace mxw::store
