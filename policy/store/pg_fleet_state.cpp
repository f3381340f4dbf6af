#include "store/pg_fleet_state.hpp"

#include "store/pg_schema.hpp"
#include "store/quarantine.hpp"

#include <algorithm>
#include <chrono>
#include <iterator>
#include <limits>

namespace mxw::store {
namespace {

// Version 1. Observations are a log that every node reads from its own
// cursor (seq) and that is pruned by age; routes are one row per
// destination, the newest saved_at kept. A forgotten route stays as a row
// without hosts until it is pruned: deleting it would let an older route,
// arriving late from another node, bring it back.
//
// Everything a peer or DNS wrote (detail, outcome and stage tokens parsed
// from a log, destinations, evidence, host names) is bytea: text refuses
// NUL and, in a UTF-8 database, any byte that is not UTF-8, and one such
// row would fail its whole batch forever. Node names and addresses are
// written by mxwarden itself.
constexpr std::string_view schema_v1 = R"sql(
CREATE TABLE mxwarden.fleet_observations (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    node text NOT NULL,
    address text NOT NULL,
    at_ms bigint NOT NULL,
    source text NOT NULL,
    ok boolean NOT NULL,
    outcome bytea NOT NULL,
    stage bytea NOT NULL,
    detail bytea NOT NULL
);
CREATE INDEX ON mxwarden.fleet_observations (at_ms);
CREATE TABLE mxwarden.fleet_routes (
    destination bytea PRIMARY KEY,
    node text NOT NULL,
    saved_at bigint NOT NULL,
    ttl bigint NOT NULL,
    implicit boolean NOT NULL,
    evidence bytea NOT NULL,
    hosts bytea NOT NULL
);
CREATE INDEX ON mxwarden.fleet_routes (saved_at);
)sql";

void to_v1(pg_connection& c) { c.exec_script(schema_v1); }
constexpr pg_step steps[] = {to_v1};
static_assert(std::size(steps) == pg_fleet_schema_version);

// Held by publish until its commit. An identity value is taken at insert
// but becomes visible at commit, and two publishers may commit out of
// order: a reader at seq 100 would skip a 99 committed after it. With
// publishers one at a time, rows commit in seq order, so every seq up to
// the highest one visible is visible too, and the cursor can never pass a
// row still to come. Publishes are a few per second per node; a queue on
// this lock costs nothing next to the bookkeeping a reader would need to
// find late rows.
constexpr std::int64_t publish_lock = 0x6d78770003;

// The database's clock, in ms, where a statement needs it.
constexpr std::string_view db_now_ms = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

// What is read back from the database, whoever wrote it: no more than a
// node keeps (daemon/fleet_link.cpp cuts to these too), so a broken or
// hostile writer cannot make every node read megabytes.
constexpr std::int64_t max_token_bytes = 64;
constexpr std::int64_t max_detail_bytes = 512;
constexpr std::int64_t max_destination_bytes = 512;
constexpr std::int64_t max_evidence_bytes = 1024;
constexpr std::int64_t max_hosts_bytes = 65536;
constexpr std::size_t max_fetch_rows = 10000;
constexpr std::size_t max_routes = 1000000;

// Observations older than this are gone from every node's health table
// (its longest backoff is minutes); pruned by publish, on the first call
// of a connection and every prune_every after.
constexpr std::int64_t keep_ms = 24 * 3600 * 1000;
constexpr std::uint64_t prune_every = 256;
constexpr std::size_t insert_chunk = 100;  // rows per INSERT: 9 parameters each, far below libpq's 65535

std::int64_t wall_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void put16(std::string& out, std::size_t v)
{
    out.push_back(static_cast<char>(v >> 8 & 0xff));
    out.push_back(static_cast<char>(v & 0xff));
}

}  // namespace

std::string encode_route_hosts(const std::vector<saved_host>& hosts)
{
    constexpr std::size_t max16 = 0xffff;
    std::string out;
    for (const auto& h : hosts) {
        if (h.name.size() > max16 || h.addresses.size() > max16 ||
            std::ranges::any_of(h.addresses, [](const std::string& a) { return a.size() > max16; }))
            continue;
        put16(out, h.preference);
        put16(out, h.name.size());
        out += h.name;
        put16(out, h.addresses.size());
        for (const auto& a : h.addresses) {
            put16(out, a.size());
            out += a;
        }
    }
    return out;
}

std::optional<std::vector<saved_host>> decode_route_hosts(std::string_view in)
{
    bool bad = false;
    auto get16 = [&]() -> std::size_t {
        if (in.size() < 2) {
            bad = true;
            return 0;
        }
        auto v = static_cast<std::size_t>(static_cast<unsigned char>(in[0]) << 8 | static_cast<unsigned char>(in[1]));
        in.remove_prefix(2);
        return v;
    };
    auto get = [&](std::size_t n) -> std::string {
        if (bad || in.size() < n) {
            bad = true;
            return {};
        }
        std::string s(in.substr(0, n));
        in.remove_prefix(n);
        return s;
    };
    std::vector<saved_host> out;
    while (!in.empty()) {
        saved_host h;
        h.preference = static_cast<std::uint16_t>(get16());
        h.name = get(get16());
        // Each address takes at least its 2-byte length: a count the rest
        // cannot hold is malformed, not a reason to reserve memory.
        std::size_t n = get16();
        if (bad || n > in.size() / 2)
            return std::nullopt;
        for (std::size_t i = 0; i < n; ++i)
            h.addresses.push_back(get(get16()));
        if (bad)
            return std::nullopt;
        out.push_back(std::move(h));
    }
    return out;
}

void migrate_pg_fleet(pg_connection& c)
{
    pg_migrate(c, "fleet", "fleet state", steps, pg_fleet_schema_version);
}

pg_fleet_state::pg_fleet_state(const std::string& conninfo, std::string node)
    : conn_(conninfo), node_(std::move(node))
{
    migrate_pg_fleet(conn_);
}

void pg_fleet_state::publish(const std::vector<shared_observation>& batch)
{
    if (batch.empty())
        return;
    // Each row goes out as its age, made into the database's time there:
    // an observation that waited in the queue while the database was away
    // keeps the moment it was made, on the one clock all nodes share.
    const std::int64_t now = wall_ms();
    pg_transaction t(conn_);
    conn_.exec("SELECT pg_advisory_xact_lock($1::bigint)", {publish_lock});
    // Many rows per INSERT, one round trip for each insert_chunk rows
    // rather than each row; only placeholders are spliced into the SQL,
    // the values go as parameters ($1 is the node, then 7 per row).
    for (std::size_t first = 0; first < batch.size(); first += insert_chunk) {
        const std::size_t n = std::min(insert_chunk, batch.size() - first);
        std::string sql = "INSERT INTO mxwarden.fleet_observations"
                          " (node, address, at_ms, source, ok, outcome, stage, detail) VALUES ";
        std::vector<pg_param> params;
        params.reserve(1 + 7 * n);
        params.emplace_back(node_);
        for (std::size_t i = 0; i < n; ++i) {
            const auto& o = batch[first + i];
            const auto next = [&] { return "$" + std::to_string(params.size() + 1); };
            sql += i ? ", ($1, " : "($1, ";
            sql += next() + ", ";
            params.emplace_back(o.address);
            sql += std::string(db_now_ms) + " - " + next() + "::bigint, ";
            params.emplace_back(std::max<std::int64_t>(now - o.at_ms, 0));
            sql += next() + ", ";
            params.emplace_back(o.source);
            sql += next() + "::bigint <> 0, ";
            params.emplace_back(std::int64_t{o.ok ? 1 : 0});
            sql += next() + ", ";
            params.emplace_back(o.outcome);
            sql += next() + ", ";
            params.emplace_back(o.stage);
            sql += next() + ")";
            params.emplace_back(o.detail);
        }
        conn_.exec(sql, params);
    }
    t.commit();
    if (publishes_++ % prune_every == 0) {
        conn_.exec("DELETE FROM mxwarden.fleet_observations WHERE at_ms < " + std::string(db_now_ms) + " - $1::bigint",
                   {keep_ms});
        conn_.exec("DELETE FROM mxwarden.fleet_routes WHERE hosts = ''::bytea AND saved_at < $1::bigint",
                   {(now - keep_ms) / 1000});
    }
}

std::vector<shared_observation> pg_fleet_state::fetch(fleet_cursor& from, std::size_t limit)
{
    limit = std::min(limit, max_fetch_rows);
    if (limit == 0)
        return {};
    const std::int64_t now = wall_ms();
    // The highest seq first: publishers commit in seq order (publish_lock),
    // so every row up to it is visible to the next statement, and the
    // cursor may skip to it when fewer than `limit` rows come back (past
    // this node's own rows, which would otherwise be read again each time).
    const std::int64_t top =
        conn_.exec("SELECT coalesce(max(seq), 0) FROM mxwarden.fleet_observations").integer(0, 0);
    if (top <= from.seq)
        return {};
    // With no cursor yet, start at from.at_ms, on this node's clock: as an
    // age, compared with the rows' database time.
    const std::int64_t since_age = from.seq == 0 && from.at_ms > 0 ? std::max<std::int64_t>(now - from.at_ms, 0) : -1;
    auto r = conn_.exec(
        "SELECT seq, left(node, $5), left(address, $5), " + std::string(db_now_ms) +
            " - at_ms, left(source, $5), ok, substring(outcome FROM 1 FOR $5), substring(stage FROM 1 FOR $5),"
            " substring(detail FROM 1 FOR $6)"
            " FROM mxwarden.fleet_observations"
            " WHERE seq > $1 AND seq <= $2 AND node <> $3"
            " AND ($7::bigint < 0 OR at_ms >= " + std::string(db_now_ms) + " - $7::bigint)"
            " ORDER BY seq LIMIT $4",
        {from.seq, top, node_, static_cast<std::int64_t>(limit), max_token_bytes, max_detail_bytes, since_age});
    std::vector<shared_observation> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        out.push_back({.address = r.bytes(i, 2),
                       .node = r.bytes(i, 1),
                       .at_ms = now - std::max<std::int64_t>(r.integer(i, 3), 0),
                       .source = r.bytes(i, 4),
                       .ok = r.boolean(i, 5),
                       .outcome = r.bytes(i, 6),
                       .stage = r.bytes(i, 7),
                       .detail = r.bytes(i, 8)});
    }
    from.seq = out.size() == limit ? r.integer(r.rows() - 1, 0) : top;
    return out;
}

void pg_fleet_state::save_routes(const std::vector<saved_route>& batch)
{
    pg_transaction t(conn_);
    for (const auto& r : batch) {
        // The newest saved_at wins, whichever node and whatever order the
        // batches arrive in; on a tie the later write.
        conn_.exec("INSERT INTO mxwarden.fleet_routes (destination, node, saved_at, ttl, implicit, evidence, hosts)"
                   " VALUES ($1, $2, $3::bigint, $4::bigint, $5::bigint <> 0, $6, $7)"
                   " ON CONFLICT (destination) DO UPDATE SET node = excluded.node, saved_at = excluded.saved_at,"
                   " ttl = excluded.ttl, implicit = excluded.implicit, evidence = excluded.evidence,"
                   " hosts = excluded.hosts WHERE mxwarden.fleet_routes.saved_at <= excluded.saved_at",
                   {r.destination, node_, r.saved_at, std::int64_t{r.ttl}, std::int64_t{r.implicit ? 1 : 0},
                    r.evidence, encode_route_hosts(r.hosts)});
    }
    t.commit();
}

std::vector<saved_route> pg_fleet_state::load_routes(std::size_t limit)
{
    auto r = conn_.exec(
        "SELECT destination, saved_at, ttl, implicit, substring(evidence FROM 1 FOR $2), hosts"
        " FROM mxwarden.fleet_routes"
        " WHERE hosts <> ''::bytea AND octet_length(destination) <= $3 AND octet_length(hosts) <= $4"
        " ORDER BY saved_at DESC, destination LIMIT $1",
        {static_cast<std::int64_t>(std::min<std::size_t>(limit, max_routes)), max_evidence_bytes,
         max_destination_bytes, max_hosts_bytes});
    std::vector<saved_route> out;
    for (int i = 0; i < r.rows(); ++i) {
        auto hosts = decode_route_hosts(r.bytes(i, 5));
        // A row this code cannot read is another node's problem, not a
        // reason to start without the rest.
        if (!hosts || hosts->empty())
            continue;
        out.push_back({.destination = r.bytes(i, 0),
                       .implicit = r.boolean(i, 3),
                       .ttl = static_cast<std::uint32_t>(std::clamp<std::int64_t>(r.integer(i, 2), 0, std::numeric_limits<std::uint32_t>::max())),
                       .evidence = r.bytes(i, 4),
                       .hosts = std::move(*hosts),
                       .saved_at = r.integer(i, 1)});
    }
    return out;
}

}  // namespace mxw::store
