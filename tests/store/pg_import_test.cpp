// Tests for pg_quarantine::import_entry, what `mxwarden store migrate`
// copies a SQLite store with, and for the schema step (version 1 to 2)
// that made room for it, against the PostgreSQL server in MXW_PG_URL. The
// source is a real SQLite store in memory, written through its own
// interface, so the cases see exactly what the CLI reads.
#include "store/pg_env.hpp"
#include "store/pg_quarantine.hpp"
#include "store/quarantine_backend.hpp"
#include "store/quarantine_store.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>

using mxw::store::entry_details;
using mxw::store::entry_state;
using mxw::store::ingest_result;
using mxw::store::pg_connection;
using mxw::store::pg_quarantine;
using mxw::store::quarantine_store;
using mxw::test::never_stale;
using mxw::test::sample;

namespace {

// An empty PostgreSQL store (the backend resets the database), as node-b.
std::unique_ptr<pg_quarantine> empty_pg(std::unique_ptr<mxw::test::quarantine_backend>& keep)
{
    keep = mxw::test::make_quarantine_backend();
    auto q = keep->open("node-b");
    return std::unique_ptr<pg_quarantine>(dynamic_cast<pg_quarantine*>(q.release()));
}

struct copied {
    std::int64_t id;
    bool was_copied;
};

copied copy_entry(quarantine_store& src, pg_quarantine& dst, std::int64_t id, std::int64_t now = 5000)
{
    auto d = src.find(id);
    REQUIRE(d);
    auto r = dst.import_entry("sqlite:node-a:" + std::to_string(id), *d, src.message(id), src.deliveries(id), now);
    return {r.id, r.copied};
}

// Everything but the id and the node, and the history without the line the
// import adds.
void check_same(const entry_details& a, const entry_details& b, std::size_t added_history = 1)
{
    CHECK(a.summary.created == b.summary.created);
    CHECK(a.summary.updated == b.summary.updated);
    CHECK(a.summary.reason == b.summary.reason);
    CHECK(a.summary.sender == b.summary.sender);
    CHECK(a.summary.first_recipient == b.summary.first_recipient);
    CHECK(a.summary.recipient_count == b.summary.recipient_count);
    CHECK(a.summary.size == b.summary.size);
    CHECK(a.summary.subject == b.summary.subject);
    CHECK(a.summary.attempts == b.summary.attempts);
    CHECK(a.reason_text == b.reason_text);
    CHECK(a.queue_id == b.queue_id);
    CHECK(a.header_from == b.header_from);
    CHECK(a.message_id == b.message_id);
    CHECK(a.evidence == b.evidence);
    CHECK(a.recipients == b.recipients);
    CHECK(a.has_message == b.has_message);
    REQUIRE(b.history.size() == a.history.size() + added_history);
    for (std::size_t i = 0; i < a.history.size(); ++i) {
        CHECK(a.history[i].at == b.history[i].at);
        CHECK(a.history[i].event == b.history[i].event);
        CHECK(a.history[i].detail == b.history[i].detail);
    }
}

}  // namespace

TEST_CASE("an imported entry keeps every field, its message and its deliveries; a second import copies nothing",
          "[pg][import]")
{
    std::unique_ptr<mxw::test::quarantine_backend> keep;
    auto pg = empty_pg(keep);
    // Something of the fleet's own first, so the copies cannot keep their
    // ids by chance.
    pg->ingest(sample("PGOWN"), 900);
    quarantine_store src(":memory:");

    auto first = sample("Q1");
    first.reason_text = "no MX answered \xe9t\xe9";
    first.evidence = R"({"mx":["a"]})";
    auto held = src.ingest(first, 1000).id;
    // Released, then back for one recipient: a second fingerprint, a new
    // queue id, attempts 2, fewer recipients.
    auto back = sample("Q1", {"carol@Dest.Example"});
    REQUIRE(src.claim_release(held, {77, 1100}, never_stale).what == mxw::store::claim_result::kind::claimed);
    REQUIRE(src.mark_released(held, 77, 1, 1101, "via test"));
    back.queue_id = "Q1BACK";
    REQUIRE(src.ingest(back, 1200, held).what == ingest_result::kind::returned);
    auto released = src.ingest(sample("Q2"), 1300).id;
    REQUIRE(src.claim_release(released, {78, 1310}, never_stale).what == mxw::store::claim_result::kind::claimed);
    REQUIRE(src.mark_released(released, 78, 1, 1311, "via test"));
    auto deleted = src.ingest(sample("Q3"), 1400).id;
    REQUIRE(src.remove(deleted, 1410, ""));

    for (auto id : {held, released, deleted}) {
        auto c = copy_entry(src, *pg, id);
        CHECK(c.was_copied);
        CHECK(c.id != id);
        auto a = src.find(id);
        auto b = pg->find(c.id);
        REQUIRE(b);
        check_same(*a, *b);
        CHECK(b->summary.state == a->summary.state);
        CHECK(b->summary.node == "node-b");
        CHECK(b->history.back().event == "migrated");
        CHECK(b->history.back().detail == "from sqlite:node-a:" + std::to_string(id));
        CHECK(pg->message(c.id) == src.message(id));
    }
    CHECK(pg->message(*pg->find_origin("sqlite:node-a:" + std::to_string(deleted))) == std::nullopt);

    // Both deliveries of the returned entry are repeats here, and so is a
    // delivery of the deleted one (SQLite would not store it again either).
    auto held_here = *pg->find_origin("sqlite:node-a:" + std::to_string(held));
    auto again = pg->ingest(first, 2000);
    CHECK(again.what == ingest_result::kind::duplicate);
    CHECK(again.id == held_here);
    CHECK(pg->ingest(back, 2001).what == ingest_result::kind::duplicate);
    CHECK(pg->ingest(sample("Q3"), 2002).what == ingest_result::kind::duplicate);

    // A second run: the same ids come back, nothing is added.
    auto before = pg->list({}).size();
    for (auto id : {held, released, deleted}) {
        auto c = copy_entry(src, *pg, id, 6000);
        CHECK_FALSE(c.was_copied);
        CHECK(c.id == *pg->find_origin("sqlite:node-a:" + std::to_string(id)));
    }
    CHECK(pg->list({}).size() == before);
    CHECK(pg->find(held_here)->history.size() == src.find(held)->history.size() + 1);
}

TEST_CASE("an entry releasing in the source comes in held, and its history says why", "[pg][import]")
{
    std::unique_ptr<mxw::test::quarantine_backend> keep;
    auto pg = empty_pg(keep);
    quarantine_store src(":memory:");
    auto id = src.ingest(sample(), 1000).id;
    REQUIRE(src.claim_release(id, {4242, 1100}, never_stale).what == mxw::store::claim_result::kind::claimed);
    auto c = copy_entry(src, *pg, id);
    auto b = pg->find(c.id);
    REQUIRE(b);
    CHECK(b->summary.state == entry_state::held);
    check_same(*src.find(id), *b);
    CHECK_THAT(b->history.back().detail, Catch::Contains("being released there") && Catch::Contains("held again"));
    // Held for real: a release here claims it.
    CHECK(pg->claim_release(c.id, {1, 2000}, never_stale).what == mxw::store::claim_result::kind::claimed);
}

TEST_CASE("a delivery the fleet already took keeps its entry; the import still copies", "[pg][import]")
{
    std::unique_ptr<mxw::test::quarantine_backend> keep;
    auto pg = empty_pg(keep);
    quarantine_store src(":memory:");
    auto id = src.ingest(sample("SAME"), 1000).id;
    auto own = pg->ingest(sample("SAME"), 1001).id;
    auto c = copy_entry(src, *pg, id);
    CHECK(c.was_copied);
    auto again = pg->ingest(sample("SAME"), 2000);
    CHECK(again.what == ingest_result::kind::duplicate);
    CHECK(again.id == own);
}

TEST_CASE("a database at schema version 1 migrates to the current version and keeps its entries", "[pg][migration]")
{
    auto keep = mxw::test::make_quarantine_backend();  // empties the database
    const std::string url = mxw::test::pg_url();
    {
        pg_connection c(url);
        mxw::store::migrate_pg_quarantine(c, 1);
        CHECK(c.exec("SELECT version FROM mxwarden.schema WHERE component = 'quarantine'").integer(0, 0) == 1);
        CHECK_FALSE(c.exec("SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema ="
                           " 'mxwarden' AND table_name = 'quarantine_entries' AND column_name = 'origin')")
                        .boolean(0, 0));
        // What a version 1 node wrote: an entry, its body and a recipient.
        c.exec_script("INSERT INTO mxwarden.quarantine_entries (node, created, updated, state, reason, sender,"
                      " first_recipient, recipient_count, size) VALUES ('old-node', 10, 10, 'held', 'dns-failure',"
                      " 'a@x.example', 'b@y.example', 1, 4);"
                      "INSERT INTO mxwarden.quarantine_messages (entry_id, body) VALUES (1, 'body');"
                      "INSERT INTO mxwarden.quarantine_recipients (entry_id, seq, address, domain)"
                      " VALUES (1, 0, 'b@y.example', 'y.example');");
    }
    pg_quarantine q(url, "node-b");
    CHECK(q.connection().exec("SELECT version FROM mxwarden.schema WHERE component = 'quarantine'").integer(0, 0) ==
          mxw::store::pg_quarantine_schema_version);
    // Version 3's sender index covers the rows version 1 wrote.
    mxw::store::list_filter by_sender;
    by_sender.sender = "A@X.example";
    CHECK(q.count(by_sender) == 1);
    auto old = q.find(1);
    REQUIRE(old);
    CHECK(old->summary.node == "old-node");
    CHECK(old->recipients == std::vector<std::string>{"b@y.example"});
    CHECK(q.message(1) == "body");
    CHECK_FALSE(q.find_origin("sqlite:node-a:1"));
    // New entries follow the old ones, and imports work on the migrated tables.
    CHECK(q.ingest(sample(), 1000).id > 1);
    quarantine_store src(":memory:");
    auto sid = src.ingest(sample("FROMSQLITE"), 1000).id;
    auto c = copy_entry(src, q, sid);
    CHECK(c.was_copied);
    // An old database is never taken backwards.
    pg_connection c2(url);
    CHECK_THROWS_AS(mxw::store::migrate_pg_quarantine(c2, 1), mxw::store::schema_error);
}
