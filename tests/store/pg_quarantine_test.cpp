// Tests for store/pg_quarantine and store/pg against the PostgreSQL server
// in MXW_PG_URL (integration/pg_store_test.sh starts one): the quarantine
// contract runs here too (quarantine_contract.cpp); these are the cases
// only a shared database has: the schema table and its migration racing
// between nodes, two nodes claiming the same entries from two threads, a
// claim matched by node as well as pid, the connection defaults, and which
// failures are transient. Without MXW_PG_URL every case fails: a missing
// server must not pass for a working backend.
#include "store/pg_env.hpp"
#include "store/pg_quarantine.hpp"
#include "store/quarantine_backend.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cstdlib>
#include <limits>
#include <netinet/in.h>
#include <optional>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using mxw::store::claim_result;
using mxw::store::entry_state;
using mxw::store::pg_connection;
using mxw::store::pg_error;
using mxw::store::pg_quarantine;
using mxw::store::release_claim;
using mxw::test::never_stale;
using mxw::test::sample;

using mxw::test::pg_url;

namespace {

// Drops everything mxwarden keeps in the database: each case starts empty.
void reset_database(const std::string& url)
{
    pg_connection(url).exec_script("DROP SCHEMA IF EXISTS mxwarden CASCADE");
}

class pg_backend final : public mxw::test::quarantine_backend {
public:
    pg_backend() : url_(pg_url()) { reset_database(url_); }
    std::unique_ptr<mxw::store::quarantine> open(const std::string& node) override
    {
        return std::make_unique<pg_quarantine>(url_, node);
    }
    [[nodiscard]] std::string reported_node(const std::string& node) const override { return node; }

private:
    std::string url_;
};

// A loopback port that nothing listens on (bound once by us, then let go).
int unused_port()
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
        throw std::runtime_error("no loopback port");
    ::close(fd);
    return ntohs(a.sin_port);
}

std::int64_t schema_version(pg_connection& c)
{
    return c.exec("SELECT version FROM mxwarden.schema WHERE component = 'quarantine'").integer(0, 0);
}

}  // namespace

std::unique_ptr<mxw::test::quarantine_backend> mxw::test::make_quarantine_backend()
{
    return std::make_unique<pg_backend>();
}

TEST_CASE("MXW_PG_URL names the server under test", "[pg]")
{
    REQUIRE(std::getenv("MXW_PG_URL"));
    pg_connection c(pg_url());
    CHECK(c.exec("SELECT 1").integer(0, 0) == 1);
}

TEST_CASE("a new database gets the schema at the current version; a newer one is refused", "[pg][migration]")
{
    const auto url = pg_url();
    reset_database(url);
    {
        pg_quarantine q(url, "node-a");
        CHECK(schema_version(q.connection()) == mxw::store::pg_quarantine_schema_version);
        q.ingest(sample(), 1000);
    }
    {
        // Opening again migrates nothing and keeps the data.
        pg_quarantine q(url, "node-a");
        CHECK(q.list({}).size() == 1);
        q.connection().exec("UPDATE mxwarden.schema SET version = version + 1 WHERE component = 'quarantine'");
    }
    try {
        pg_quarantine q(url, "node-a");
        FAIL("a newer schema was accepted");
    } catch (const mxw::store::schema_error& e) {
        CHECK_THAT(e.what(),
                   Catch::Contains("schema version " + std::to_string(mxw::store::pg_quarantine_schema_version + 1)) &&
                       Catch::Contains("newer mxwarden"));
        CHECK_FALSE(e.transient());
    }
}

TEST_CASE("nodes opening a new database at once migrate it once", "[pg][migration]")
{
    const auto url = pg_url();
    reset_database(url);
    constexpr int nodes = 6;
    std::atomic<int> ready{0};
    std::vector<std::string> errors(nodes);
    std::vector<std::thread> threads;
    for (int i = 0; i < nodes; ++i)
        threads.emplace_back([&, i] {
            auto& error = errors[static_cast<std::size_t>(i)];
            try {
                // Connected first, so the migrations, not the connects, race.
                pg_connection c(url);
                ++ready;
                while (ready < nodes)
                    std::this_thread::yield();
                mxw::store::migrate_pg_quarantine(c);
                pg_quarantine q(url, "node-" + std::to_string(i));
                q.ingest(sample("Q" + std::to_string(i)), 1000);
            } catch (const std::exception& e) {
                error = e.what();
            }
        });
    for (auto& t : threads)
        t.join();
    for (const auto& e : errors)
        CHECK(e.empty());
    pg_quarantine q(url, "node-a");
    CHECK(q.list({}).size() == nodes);
    CHECK(q.connection().exec("SELECT count(*) FROM mxwarden.schema").integer(0, 0) == 1);
}

TEST_CASE("two nodes claiming the same 100 entries at once: each is claimed exactly once", "[pg][release]")
{
    auto backend = mxw::test::make_quarantine_backend();
    auto a = backend->open("node-a");
    auto b = backend->open("node-b");
    constexpr int n = 100;
    std::vector<std::int64_t> ids;
    for (int i = 0; i < n; ++i)
        ids.push_back((i % 2 ? a : b)->ingest(sample("Q" + std::to_string(i)), 1000).id);

    // Catch's assertions are not thread-safe: the threads only record.
    struct outcome {
        claim_result::kind what;
        std::string holder;
    };
    std::atomic<int> ready{0};
    auto run = [&](mxw::store::quarantine& q, bool reverse, std::vector<outcome>& out) {
        out.resize(n);
        ++ready;
        while (ready < 2)
            std::this_thread::yield();
        for (int k = 0; k < n; ++k) {
            auto i = static_cast<std::size_t>(reverse ? n - 1 - k : k);
            // The same pid on both: only the node tells the claims apart.
            auto r = q.claim_release(ids[i], {4242, 2000}, never_stale);
            out[i] = {r.what, r.holder ? r.holder->node : ""};
        }
    };
    std::vector<outcome> by_a, by_b;
    std::thread ta(run, std::ref(*a), false, std::ref(by_a));
    std::thread tb(run, std::ref(*b), true, std::ref(by_b));
    ta.join();
    tb.join();

    int won_a = 0;
    for (std::size_t i = 0; i < n; ++i) {
        INFO("entry " << ids[i]);
        bool a_won = by_a[i].what == claim_result::kind::claimed;
        bool b_won = by_b[i].what == claim_result::kind::claimed;
        CHECK(a_won != b_won);
        if (a_won) {
            ++won_a;
            CHECK(by_b[i].what == claim_result::kind::busy);
            CHECK(by_b[i].holder == "node-a");
        } else {
            CHECK(by_a[i].what == claim_result::kind::busy);
            CHECK(by_a[i].holder == "node-b");
        }
        REQUIRE((a_won ? a : b)->mark_released(ids[i], 4242, 1, 3000, "via sendmail x"));
    }
    INFO("node-a won " << won_a << " of " << n);
    auto released = a->list([] {
        mxw::store::list_filter f;
        f.state = entry_state::released;
        return f;
    }());
    CHECK(released.size() == n);
    // One "releasing" event per entry: nobody claimed anything twice.
    auto events = dynamic_cast<pg_quarantine&>(*a).connection().exec(
        "SELECT count(*) FROM mxwarden.quarantine_history WHERE event = 'releasing'");
    CHECK(events.integer(0, 0) == n);
}

TEST_CASE("two nodes ingesting the same deliveries at once store each once", "[pg][ingest]")
{
    // The MTA retrying a delivery whose first ingest still runs, on
    // another node: one stores it, the other finds it, nobody fails.
    auto backend = mxw::test::make_quarantine_backend();
    auto a = backend->open("node-a");
    auto b = backend->open("node-b");
    constexpr int n = 50;
    struct outcome {
        std::optional<mxw::store::ingest_result> result;
        std::string error;
    };
    std::atomic<int> ready{0};
    auto run = [&](mxw::store::quarantine& q, std::vector<outcome>& out) {
        out.resize(n);
        ++ready;
        while (ready < 2)
            std::this_thread::yield();
        for (std::size_t i = 0; i < n; ++i) {
            try {
                out[i].result = q.ingest(sample("Q" + std::to_string(i)), 1000);
            } catch (const std::exception& e) {
                out[i].error = e.what();
            }
        }
    };
    std::vector<outcome> by_a, by_b;
    std::thread ta(run, std::ref(*a), std::ref(by_a));
    std::thread tb(run, std::ref(*b), std::ref(by_b));
    ta.join();
    tb.join();
    for (std::size_t i = 0; i < n; ++i) {
        INFO("delivery " << i << ": " << by_a[i].error << by_b[i].error);
        REQUIRE(by_a[i].result);
        REQUIRE(by_b[i].result);
        CHECK(by_a[i].result->id == by_b[i].result->id);
        CHECK((by_a[i].result->what == mxw::store::ingest_result::kind::stored) !=
              (by_b[i].result->what == mxw::store::ingest_result::kind::stored));
    }
    CHECK(a->list({}).size() == n);
}

TEST_CASE("a claim is matched by node and pid: the same pid elsewhere cannot finish it", "[pg][release]")
{
    auto backend = mxw::test::make_quarantine_backend();
    auto a = backend->open("node-a");
    auto b = backend->open("node-b");
    auto id = a->ingest(sample(), 1000).id;
    REQUIRE(a->claim_release(id, {4242, 1100}, never_stale).what == claim_result::kind::claimed);
    b->record_release_failure(id, 4242, 1101, "not mine");
    CHECK(a->find(id)->summary.state == entry_state::releasing);
    REQUIRE(b->mark_released(id, 4242, 1, 1102, "not mine either"));
    CHECK(a->find(id)->summary.state == entry_state::releasing);
    CHECK_THAT(a->find(id)->history.back().detail, Catch::Contains("it is releasing now"));
    REQUIRE(a->mark_released(id, 4242, 1, 1103, "via sendmail x"));
    CHECK(b->find(id)->summary.state == entry_state::released);
    // A takeover names the node it took the claim from.
    auto other = a->ingest(sample("Q2"), 1200).id;
    REQUIRE(a->claim_release(other, {1, 1200}, never_stale).what == claim_result::kind::claimed);
    REQUIRE(b->claim_release(other, {2, 1300}, mxw::test::always_stale).what == claim_result::kind::claimed);
    CHECK_THAT(b->find(other)->history.back().detail,
               Catch::Contains("node=node-b took over the claim of pid=1 on node-a"));
}

TEST_CASE("usage counts the held bytes; there is no limit unless one is configured", "[pg][size]")
{
    auto backend = mxw::test::make_quarantine_backend();
    auto q = backend->open("node-a");
    CHECK(q->max_bytes(std::nullopt) == std::numeric_limits<std::uint64_t>::max());
    CHECK(q->max_bytes(5000) == 5000);
    q->ingest(sample("A"), 1000);
    q->remove(q->ingest(sample("B"), 1000).id, 1001, "");
    auto u = q->usage();
    CHECK(u.used_bytes == sample().message.size());
    CHECK(u.file_bytes > 0);
    // The unlimited default takes no lock and refuses nothing.
    CHECK(q->ingest(sample("C"), 1002, std::nullopt, q->max_bytes(std::nullopt)).what ==
          mxw::store::ingest_result::kind::stored);
}

TEST_CASE("the connection string's own settings win over mxwarden's defaults", "[pg]")
{
    const auto url = pg_url();
    pg_connection plain(url);
    CHECK(plain.exec("SHOW application_name").bytes(0, 0) == "mxwarden");
    CHECK(plain.exec("SELECT current_setting('application_name')").bytes(0, 0) == "mxwarden");
    // A URI takes it as a query parameter, a key=value string as a word.
    bool uri = url.starts_with("postgresql://") || url.starts_with("postgres://");
    auto with = uri ? (url.find('?') == std::string::npos ? "?" : "&") + std::string("application_name=custom")
                    : " application_name=custom";
    pg_connection own(url + with);
    CHECK(own.exec("SHOW application_name").bytes(0, 0) == "custom");
}

TEST_CASE("connection failures and shutdowns are transient; errors in a statement are not", "[pg]")
{
    const auto url = pg_url();
    try {
        pg_connection c("host=127.0.0.1 port=" + std::to_string(unused_port()) + " dbname=mxwarden");
        FAIL("connected to a port nothing listens on");
    } catch (const pg_error& e) {
        CHECK(e.transient());
        CHECK(e.connection_failed());
        CHECK_THAT(e.what(), Catch::Contains("PostgreSQL"));
    }

    pg_connection c(url);
    try {
        c.exec("SELEC 1");
        FAIL("a syntax error passed");
    } catch (const pg_error& e) {
        CHECK(e.sqlstate() == "42601");
        CHECK_FALSE(e.transient());
    }
    c.exec_script("CREATE TEMP TABLE t (k integer PRIMARY KEY); INSERT INTO t VALUES (1)");
    try {
        c.exec("INSERT INTO t VALUES ($1)", {std::int64_t{1}});
        FAIL("a duplicate key passed");
    } catch (const pg_error& e) {
        CHECK(e.sqlstate() == "23505");
        CHECK_FALSE(e.transient());
    }
    // The session still works after an error outside a transaction.
    CHECK(c.exec("SELECT count(*) FROM t").integer(0, 0) == 1);

    // The server ends the session, as a shutdown does: that statement and
    // every later one fail, transiently.
    pg_connection victim(url);
    try {
        victim.exec("SELECT pg_terminate_backend(pg_backend_pid())");
        FAIL("the session survived its termination");
    } catch (const pg_error& e) {
        CHECK(e.transient());
    }
    try {
        victim.exec("SELECT 1");
        FAIL("a dead connection answered");
    } catch (const pg_error& e) {
        CHECK(e.transient());
        CHECK(e.connection_failed());
    }
}

TEST_CASE("a failed ingest leaves nothing behind; the transaction is rolled back", "[pg]")
{
    auto backend = mxw::test::make_quarantine_backend();
    auto q = backend->open("node-a");
    auto big = sample("BIG");
    big.message.append(10000, 'x');
    CHECK_THROWS_AS(q->ingest(big, 1000, std::nullopt, 100), mxw::store::quarantine_full);
    // The same handle goes on working, and the refused mail left no row.
    CHECK(q->ingest(sample(), 1001).what == mxw::store::ingest_result::kind::stored);
    auto& c = dynamic_cast<pg_quarantine&>(*q).connection();
    CHECK(c.exec("SELECT count(*) FROM mxwarden.quarantine_entries").integer(0, 0) == 1);
    CHECK(c.exec("SELECT count(*) FROM mxwarden.quarantine_messages").integer(0, 0) == 1);
}
