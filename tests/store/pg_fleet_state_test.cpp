// Tests for store/pg_fleet_state against the PostgreSQL server in
// MXW_PG_URL (integration/pg_store_test.sh starts one): observations going
// from node to node through the cursor, never back to their own node and
// never lost to transactions committing out of order; routes where the
// newest saved_at wins; the caps on what is read back; the schema version.
#include "store/pg_env.hpp"
#include "store/open_store.hpp"
#include "store/pg_fleet_state.hpp"
#include "store/quarantine.hpp"  // schema_error

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <set>
#include <thread>

using mxw::store::fleet_cursor;
using mxw::store::pg_connection;
using mxw::store::pg_fleet_state;
using mxw::store::saved_host;
using mxw::store::saved_route;
using mxw::store::shared_observation;

using mxw::test::pg_url;

namespace {

// A fresh database for each case: the fleet tables only, so a case run
// alone does not depend on the quarantine's.
std::string fresh()
{
    auto url = pg_url();
    pg_connection(url).exec_script("DROP SCHEMA IF EXISTS mxwarden CASCADE");
    return url;
}

std::int64_t wall_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

shared_observation obs(std::string address, std::int64_t at_ms, bool ok = false, std::string detail = "")
{
    return {.address = std::move(address),
            .node = "ignored",
            .at_ms = at_ms,
            .source = "probe",
            .ok = ok,
            .outcome = ok ? "ok" : "banner-timeout",
            .stage = ok ? "" : "greeting",
            .detail = std::move(detail)};
}

saved_route route(std::string destination, std::int64_t saved_at, std::string host = "mx1.example.net")
{
    return {.destination = std::move(destination),
            .implicit = false,
            .ttl = 300,
            .evidence = "MX from DNS",
            .hosts = host.empty() ? std::vector<saved_host>{}
                                  : std::vector<saved_host>{{10, host, {"192.0.2.1", "2001:db8::1"}}},
            .saved_at = saved_at};
}

}  // namespace

TEST_CASE("fleet: observations go to the other nodes, never back to their own", "[pg][fleet]")
{
    const auto url = fresh();
    pg_fleet_state a(url, "mta-1");
    pg_fleet_state b(url, "mta-2");
    fleet_cursor ca, cb;
    CHECK(b.fetch(cb, 100).empty());

    const auto now = wall_ms();
    // Peer text is bytes: a NUL and a byte that is not UTF-8 come back exactly.
    const std::string detail("220 hi\0\xff there", 15);
    a.publish({obs("192.0.2.1", now - 5000, false, detail), obs("192.0.2.2", now, true)});
    b.publish({obs("192.0.2.3", now)});

    auto got = b.fetch(cb, 100);
    REQUIRE(got.size() == 2);
    CHECK(got[0].address == "192.0.2.1");
    CHECK(got[0].node == "mta-1");  // as published by a, whatever the batch said
    CHECK(got[0].source == "probe");
    CHECK_FALSE(got[0].ok);
    CHECK(got[0].outcome == "banner-timeout");
    CHECK(got[0].stage == "greeting");
    CHECK(got[0].detail == detail);
    // Its age survives the trip through the database's clock (both clocks
    // are this machine's here).
    CHECK(std::abs(got[0].at_ms - (now - 5000)) < 1000);
    CHECK(got[1].address == "192.0.2.2");
    CHECK(got[1].ok);
    CHECK(cb.seq > 0);
    // The cursor went past them: nothing twice.
    CHECK(b.fetch(cb, 100).empty());

    auto mine = a.fetch(ca, 100);
    REQUIRE(mine.size() == 1);
    CHECK(mine[0].node == "mta-2");
    CHECK(mine[0].address == "192.0.2.3");

    // A cursor advances past this node's own rows too, and a limit splits
    // the rest in order.
    b.publish({obs("192.0.2.9", now)});
    a.publish({obs("192.0.2.4", now), obs("192.0.2.5", now), obs("192.0.2.6", now)});
    auto first = b.fetch(cb, 2);
    REQUIRE(first.size() == 2);
    CHECK(first[0].address == "192.0.2.4");
    CHECK(first[1].address == "192.0.2.5");
    auto rest = b.fetch(cb, 2);
    REQUIRE(rest.size() == 1);
    CHECK(rest[0].address == "192.0.2.6");
    CHECK(b.fetch(cb, 2).empty());
}

TEST_CASE("fleet: a node with no cursor yet starts at the given time", "[pg][fleet]")
{
    const auto url = fresh();
    pg_fleet_state a(url, "mta-1");
    const auto now = wall_ms();
    a.publish({obs("192.0.2.1", now - 3600 * 1000), obs("192.0.2.2", now - 1000)});
    pg_fleet_state b(url, "mta-2");
    fleet_cursor c{0, now - 600 * 1000};
    auto got = b.fetch(c, 100);
    REQUIRE(got.size() == 1);
    CHECK(got[0].address == "192.0.2.2");
    CHECK(c.seq > 0);
}

TEST_CASE("fleet: publishers committing at once lose no row to a reader's cursor", "[pg][fleet]")
{
    // An identity value is taken at insert and seen at commit: without
    // publishers taking turns, a reader that saw a later row first would
    // move its cursor past an earlier one still committing.
    const auto url = fresh();
    { pg_fleet_state migrate(url, "reader"); }
    constexpr int writers = 4, batches = 40, per_batch = 5;
    std::atomic<int> done{0};
    std::vector<std::string> errors(writers + 1);
    std::multiset<std::string> seen;
    std::thread reader([&] {
        try {
            pg_fleet_state r(url, "reader");
            fleet_cursor c;
            auto take = [&] {
                for (auto& o : r.fetch(c, 7))
                    seen.insert(o.address);
            };
            while (done < writers)
                take();
            // Everything has committed now: read to the end.
            for (auto n = seen.size(); (take(), seen.size() != n); n = seen.size()) {
            }
        } catch (const std::exception& e) {
            errors[writers] = e.what();
        }
    });
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w)
        threads.emplace_back([&, w] {
            try {
                pg_fleet_state p(url, "mta-" + std::to_string(w));
                for (int b = 0; b < batches; ++b) {
                    std::vector<shared_observation> batch;
                    for (int i = 0; i < per_batch; ++i)
                        batch.push_back(obs(std::to_string(w) + "/" + std::to_string(b) + "/" + std::to_string(i),
                                            wall_ms()));
                    p.publish(batch);
                }
            } catch (const std::exception& e) {
                errors[static_cast<std::size_t>(w)] = e.what();
            }
            ++done;
        });
    for (auto& t : threads)
        t.join();
    reader.join();
    for (const auto& e : errors)
        CHECK(e.empty());
    CHECK(seen.size() == std::size_t{writers * batches * per_batch});
    CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == seen.size());
}

TEST_CASE("fleet: the newest saved route wins; a forgotten route stays forgotten", "[pg][fleet]")
{
    const auto url = fresh();
    pg_fleet_state a(url, "mta-1");
    pg_fleet_state b(url, "mta-2");
    a.save_routes({route("example.com", 100, "a.example.net")});
    b.save_routes({route("example.com", 50, "b.example.net")});  // older: ignored
    auto r = a.load_routes(10);
    REQUIRE(r.size() == 1);
    CHECK(r[0].hosts.at(0).name == "a.example.net");

    b.save_routes({route("example.com", 200, "b.example.net")});
    r = a.load_routes(10);
    REQUIRE(r.size() == 1);
    CHECK(r[0].destination == "example.com");
    CHECK(r[0].saved_at == 200);
    CHECK(r[0].ttl == 300);
    CHECK(r[0].evidence == "MX from DNS");
    REQUIRE(r[0].hosts.size() == 1);
    CHECK(r[0].hosts[0].preference == 10);
    CHECK(r[0].hosts[0].name == "b.example.net");
    CHECK(r[0].hosts[0].addresses == std::vector<std::string>{"192.0.2.1", "2001:db8::1"});

    a.save_routes({route("example.com", 150, "")});  // an older forget: ignored
    CHECK(b.load_routes(10).size() == 1);
    a.save_routes({route("example.com", 300, "")});
    CHECK(b.load_routes(10).empty());
    b.save_routes({route("example.com", 250, "late.example.net")});  // older than the forget
    CHECK(b.load_routes(10).empty());
    b.save_routes({route("example.com", 400, "back.example.net")});
    r = b.load_routes(10);
    REQUIRE(r.size() == 1);
    CHECK(r[0].hosts.at(0).name == "back.example.net");
}

TEST_CASE("fleet: routes load newest first, up to the limit", "[pg][fleet]")
{
    const auto url = fresh();
    pg_fleet_state a(url, "mta-1");
    saved_route implicit = route("aonly.example", 20);
    implicit.implicit = true;
    a.save_routes({route("old.example", 10), implicit, route("new.example", 30)});
    auto r = a.load_routes(10);
    REQUIRE(r.size() == 3);
    CHECK(r[0].destination == "new.example");
    CHECK(r[1].destination == "aonly.example");
    CHECK(r[1].implicit);
    CHECK_FALSE(r[0].implicit);
    CHECK(r[2].destination == "old.example");
    r = a.load_routes(2);
    REQUIRE(r.size() == 2);
    CHECK(r[1].destination == "aonly.example");
}

TEST_CASE("fleet: what is read back is capped, whoever wrote it", "[pg][fleet]")
{
    const auto url = fresh();
    pg_fleet_state b(url, "mta-2");
    pg_connection raw(url);
    // Rows as a broken or hostile writer could leave them.
    raw.exec("INSERT INTO mxwarden.fleet_observations (node, address, at_ms, source, ok, outcome, stage, detail)"
             " VALUES (repeat('n', 1000), repeat('1', 1000), 0, 'probe', false, decode(repeat('6f', 1000), 'hex'),"
             " ''::bytea, decode(repeat('41', 1000000), 'hex'))");
    raw.exec("INSERT INTO mxwarden.fleet_routes (destination, node, saved_at, ttl, implicit, evidence, hosts) VALUES"
             " ('huge.example'::bytea, 'x', 5, 9999999999, false, decode(repeat('45', 100000), 'hex'),"
             "  decode(repeat('00', 100000), 'hex')),"
             " ('broken.example'::bytea, 'x', 4, 1, false, ''::bytea, '\\x000a00ff'::bytea),"
             " ('fine.example'::bytea, 'x', 3, 9999999999, false, decode(repeat('45', 100000), 'hex'), $1)",
             {mxw::store::encode_route_hosts({{10, "mx.example", {"192.0.2.7"}}})});
    fleet_cursor c;
    auto got = b.fetch(c, 100);
    REQUIRE(got.size() == 1);
    CHECK(got[0].detail.size() == 512);
    CHECK(got[0].node.size() == 64);
    CHECK(got[0].address.size() == 64);
    CHECK(got[0].outcome.size() == 64);

    // Too large, and malformed: left out; the readable one is used, its
    // evidence cut and its TTL brought into range.
    auto r = b.load_routes(10);
    REQUIRE(r.size() == 1);
    CHECK(r[0].destination == "fine.example");
    CHECK(r[0].evidence.size() == 1024);
    CHECK(r[0].ttl == 4294967295U);

    // No more rows per fetch than the cap, whatever the caller asks.
    raw.exec("INSERT INTO mxwarden.fleet_observations (node, address, at_ms, source, ok, outcome, stage, detail)"
             " SELECT 'mta-1', 'a' || i, 0, 'probe', true, ''::bytea, ''::bytea, ''::bytea"
             " FROM generate_series(1, 10005) AS i");
    CHECK(b.fetch(c, 1000000).size() == 10000);
    CHECK(b.fetch(c, 1000000).size() == 5);
}

TEST_CASE("fleet: old observations and forgotten routes are pruned, last-known-good routes kept", "[pg][fleet]")
{
    const auto url = fresh();
    { pg_fleet_state migrate(url, "mta-1"); }
    pg_connection raw(url);
    const auto two_days_ago = wall_ms() / 1000 - 2 * 86400;
    raw.exec("INSERT INTO mxwarden.fleet_observations (node, address, at_ms, source, ok, outcome, stage, detail)"
             " VALUES ('mta-2', '192.0.2.1', $1::bigint * 1000, 'probe', true, ''::bytea, ''::bytea, ''::bytea)",
             {two_days_ago});
    pg_fleet_state a(url, "mta-1");
    a.save_routes({route("gone.example", two_days_ago, ""), route("kept.example", two_days_ago)});
    // The first publish of a connection prunes.
    a.publish({obs("192.0.2.2", wall_ms())});
    CHECK(raw.exec("SELECT count(*) FROM mxwarden.fleet_observations").integer(0, 0) == 1);
    auto r = a.load_routes(10);
    REQUIRE(r.size() == 1);
    CHECK(r[0].destination == "kept.example");
    CHECK(raw.exec("SELECT count(*) FROM mxwarden.fleet_routes").integer(0, 0) == 1);
}

TEST_CASE("fleet: a newer schema is refused", "[pg][fleet][migration]")
{
    const auto url = fresh();
    { pg_fleet_state a(url, "mta-1"); }
    pg_connection raw(url);
    CHECK(raw.exec("SELECT version FROM mxwarden.schema WHERE component = 'fleet'").integer(0, 0) ==
          mxw::store::pg_fleet_schema_version);
    raw.exec("UPDATE mxwarden.schema SET version = version + 1 WHERE component = 'fleet'");
    try {
        pg_fleet_state a(url, "mta-1");
        FAIL("a newer schema was accepted");
    } catch (const mxw::store::schema_error& e) {
        CHECK_THAT(e.what(), Catch::Contains("schema version 2") && Catch::Contains("newer mxwarden"));
        CHECK_FALSE(e.transient());
    }
    // What --check-config and doctor report, without the quarantine's tables.
    auto seen = mxw::store::check_store({.sqlite_path = "", .url = url, .node = "mta-1"});
    CHECK(seen.what == mxw::store::store_check::kind::newer);
    CHECK_THAT(seen.detail, Catch::Contains("fleet schema version 2"));
}

TEST_CASE("fleet: route hosts encode and decode; malformed bytes are refused", "[fleet]")
{
    using mxw::store::decode_route_hosts;
    using mxw::store::encode_route_hosts;
    std::vector<saved_host> hosts{{10, "mx1.example", {"192.0.2.1", "2001:db8::1"}}, {20, "mx2.example", {}}};
    auto bytes = encode_route_hosts(hosts);
    auto back = decode_route_hosts(bytes);
    REQUIRE(back);
    REQUIRE(back->size() == 2);
    CHECK((*back)[0].preference == 10);
    CHECK((*back)[0].name == "mx1.example");
    CHECK((*back)[0].addresses == hosts[0].addresses);
    CHECK((*back)[1].name == "mx2.example");
    CHECK((*back)[1].addresses.empty());
    CHECK(decode_route_hosts("")->empty());
    // Cut anywhere but between two hosts, it is malformed.
    const auto first = encode_route_hosts({hosts[0]}).size();
    for (std::size_t n = 1; n < bytes.size(); ++n)
        if (n != first)
            CHECK_FALSE(decode_route_hosts(std::string_view(bytes).substr(0, n)));
    // An address count the bytes cannot hold.
    CHECK_FALSE(decode_route_hosts(std::string("\0\x0a\0\0\xff\xff", 6)));
    // A host no DNS answer can hold is left out.
    CHECK(encode_route_hosts({{10, std::string(70000, 'a'), {}}}).empty());
}
