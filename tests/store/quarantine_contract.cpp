// The quarantine contract (store/quarantine.hpp), the same cases for every
// backend: ingest (new, repeated delivery, a released message coming back,
// a forged tracking header, the size limit), 8-bit data kept exactly,
// release claims between two handles (two nodes for PostgreSQL), listing
// filters, state changes, purge rules and stats. The binary that compiles
// this file defines make_quarantine_backend (quarantine_backend.hpp).
#include "store/quarantine_backend.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <vector>

using namespace std::string_literals;
using mxw::store::claim_result;
using mxw::store::entry_state;
using mxw::store::ingest_result;
using mxw::store::list_filter;
using mxw::store::page_request;
using mxw::store::release_claim;
using mxw::test::always_stale;
using mxw::test::never_stale;
using mxw::test::sample;

namespace {

// A fresh store and one handle on it, opened as "node-a".
struct store_fixture {
    std::unique_ptr<mxw::test::quarantine_backend> backend = mxw::test::make_quarantine_backend();
    std::unique_ptr<mxw::store::quarantine> handle = backend->open();
    mxw::store::quarantine& qs = *handle;
};

}  // namespace

TEST_CASE_METHOD(store_fixture, "ingest stores envelope, summary fields and the exact bytes", "[quarantine]")
{
    auto e = sample();
    e.evidence = R"({"domain":"dest.example"})";
    auto r = qs.ingest(e, 1000);
    CHECK(r.what == ingest_result::kind::stored);
    auto d = qs.find(r.id);
    REQUIRE(d);
    CHECK(d->summary.state == entry_state::held);
    CHECK(d->summary.reason == "dns-failure");
    CHECK(d->summary.sender == "alice@src.example");
    CHECK(d->summary.first_recipient == "bob@dest.example");
    CHECK(d->summary.recipient_count == 2);
    CHECK(d->summary.size == static_cast<std::int64_t>(e.message.size()));
    CHECK(d->summary.subject == "quarterly report");
    CHECK(d->summary.attempts == 1);
    CHECK(d->header_from == "Alice <alice@src.example>");
    CHECK(d->message_id == "<m1@src.example>");
    CHECK(d->queue_id == "4XyZ1");
    CHECK(d->evidence == e.evidence);
    CHECK(d->recipients == e.recipients);
    REQUIRE(d->history.size() == 1);
    CHECK(d->history[0].event == "quarantined");
    CHECK(qs.message(r.id) == e.message);
    CHECK_FALSE(qs.find(r.id + 1));
    CHECK_FALSE(qs.message(r.id + 1));
}

TEST_CASE_METHOD(store_fixture, "the null sender and garbage bodies are stored like any mail", "[quarantine]")
{
    auto e = sample();
    e.sender = "";
    e.message = std::string("\x00\x01\xfe\r\r\n\n", 7);
    auto r = qs.ingest(e, 1);
    CHECK(qs.message(r.id) == e.message);
    CHECK(qs.find(r.id)->summary.subject.empty());
}

TEST_CASE_METHOD(store_fixture, "a repeated delivery is a no-op; a different one is not", "[quarantine]")
{
    auto first = qs.ingest(sample(), 1000);
    auto again = qs.ingest(sample(), 1001);
    CHECK(again.what == ingest_result::kind::duplicate);
    CHECK(again.id == first.id);
    // Recipient order does not make a delivery new.
    auto swapped = qs.ingest(sample("4XyZ1", {"carol@Dest.Example", "bob@dest.example"}), 1002);
    CHECK(swapped.what == ingest_result::kind::duplicate);
    CHECK(qs.list({}).size() == 1);
    CHECK(qs.find(first.id)->history.size() == 1);

    CHECK(qs.ingest(sample("OTHERQ"), 1003).what == ingest_result::kind::stored);
    auto changed = sample();
    changed.message += "x";
    CHECK(qs.ingest(changed, 1004).what == ingest_result::kind::stored);
    CHECK(qs.list({}).size() == 3);
}

TEST_CASE_METHOD(store_fixture, "a released message that comes back updates its own entry", "[quarantine]")
{
    auto id = qs.ingest(sample(), 1000).id;
    REQUIRE(qs.claim_release(id, {42, 1050}, never_stale).what == claim_result::kind::claimed);
    REQUIRE(qs.mark_released(id, 42, 1, 1100, "via smtp:127.0.0.1:25: 250 ok"));
    CHECK(qs.find(id)->summary.state == entry_state::released);

    // Only carol failed again: she alone is held for the next release.
    auto back = sample("NEWQ", {"carol@dest.example"});
    back.reason = "all-mx-dead";
    back.message = "X-Mxwarden-Quarantine-Id: 1\n" + back.message;
    auto r = qs.ingest(back, 1200, id);
    CHECK(r.what == ingest_result::kind::returned);
    CHECK(r.id == id);
    auto d = qs.find(id);
    CHECK(d->summary.state == entry_state::held);
    CHECK(d->summary.attempts == 2);
    CHECK(d->summary.reason == "all-mx-dead");
    CHECK(d->queue_id == "NEWQ");
    CHECK(d->recipients == std::vector<std::string>{"carol@dest.example"});
    CHECK(d->history.back().event == "returned");
    CHECK(qs.list({}).size() == 1);
    // The original message is kept, without the tracking header.
    CHECK(qs.message(id) == sample().message);
    // The same return delivered twice changes nothing more.
    CHECK(qs.ingest(back, 1300, id).what == ingest_result::kind::duplicate);
    CHECK(qs.find(id)->summary.attempts == 2);
}

TEST_CASE_METHOD(store_fixture, "a tracking header that does not fit its entry makes a new entry", "[quarantine]")
{
    auto id = qs.ingest(sample(), 1000).id;
    auto forged = sample("Q2");
    forged.sender = "mallory@evil.example";
    CHECK(qs.ingest(forged, 1001, id).what == ingest_result::kind::stored);
    auto stranger = sample("Q3", {"dave@other.example"});
    CHECK(qs.ingest(stranger, 1002, id).what == ingest_result::kind::stored);
    CHECK(qs.ingest(sample("Q4"), 1003, 999).what == ingest_result::kind::stored);
    qs.remove(id, 1004, "");
    CHECK(qs.ingest(sample("Q5"), 1005, id).what == ingest_result::kind::stored);
    CHECK(qs.find(id)->summary.attempts == 1);
}

TEST_CASE_METHOD(store_fixture, "a message that came back before its release was recorded stays held", "[quarantine]")
{
    auto id = qs.ingest(sample(), 1000).id;
    REQUIRE(qs.claim_release(id, {42, 1000}, never_stale).what == claim_result::kind::claimed);
    CHECK(qs.ingest(sample("BACK"), 1001, id).what == ingest_result::kind::returned);
    // Held again, the claim gone with the old attempt.
    CHECK(qs.find(id)->summary.state == entry_state::held);
    REQUIRE(qs.mark_released(id, 42, 1, 1002, "via sendmail /usr/sbin/sendmail"));
    auto d = qs.find(id);
    CHECK(d->summary.state == entry_state::held);
    CHECK(d->recipients.size() == 2);
    CHECK_THAT(d->history.back().detail, Catch::Contains("come back"));
    CHECK_FALSE(qs.mark_released(id + 7, 42, 1, 1003, ""));
}

TEST_CASE_METHOD(store_fixture, "release failures, delete and the message blob", "[quarantine]")
{
    auto id = qs.ingest(sample(), 1000).id;
    REQUIRE(qs.claim_release(id, {42, 1001}, never_stale).what == claim_result::kind::claimed);
    CHECK(qs.find(id)->summary.state == entry_state::releasing);
    qs.record_release_failure(id, 42, 1001, "127.0.0.1:25: connect: Connection refused");
    auto d = qs.find(id);
    CHECK(d->summary.state == entry_state::held);
    // Back to held: the next release claims it afresh.
    CHECK(qs.claim_release(id, {43, 1001}, never_stale).what == claim_result::kind::claimed);
    qs.record_release_failure(id, 43, 1001, "again");
    CHECK(d->history.back().event == "release-failed");
    CHECK(qs.remove(id, 1002, ""));
    CHECK_FALSE(qs.remove(id, 1003, ""));
    CHECK_FALSE(qs.message(id));
    d = qs.find(id);
    REQUIRE(d);
    CHECK(d->summary.state == entry_state::deleted);
    CHECK_FALSE(d->has_message);
    CHECK(d->history.back().event == "deleted");
}

TEST_CASE_METHOD(store_fixture, "list filters by state, reason, recipient domain and age", "[quarantine]")
{
    auto a = qs.ingest(sample("A"), 1000).id;
    auto b_entry = sample("B", {"x@other.example"});
    b_entry.reason = "null-mx";
    auto b = qs.ingest(b_entry, 2000).id;
    auto c = qs.ingest(sample("C"), 3000).id;
    qs.remove(c, 3001, "");

    auto by = [](auto set) {
        list_filter f;
        set(f);
        return f;
    };
    auto ids = [&](const list_filter& f) {
        std::vector<std::int64_t> out;
        for (const auto& s : qs.list(f))
            out.push_back(s.id);
        return out;
    };
    CHECK(ids({}) == std::vector<std::int64_t>{a, b, c});
    CHECK(ids(by([](list_filter& f) { f.state = entry_state::held; })) == std::vector<std::int64_t>{a, b});
    CHECK(ids(by([](list_filter& f) { f.reason = "null-mx"; })) == std::vector<std::int64_t>{b});
    CHECK(ids(by([](list_filter& f) { f.domain = "DEST.example"; })) == std::vector<std::int64_t>{a, c});
    CHECK(ids(by([](list_filter& f) { f.since = 2000; })) == std::vector<std::int64_t>{b, c});
    CHECK(ids(by([](list_filter& f) { f.reason = "dns-failure"; f.domain = "dest.example"; f.since = 500; f.state = entry_state::held; })) ==
          std::vector<std::int64_t>{a});
    CHECK(ids(by([](list_filter& f) { f.domain = "nowhere.example"; })).empty());
}

namespace {

// The ids a filter lists, oldest first, after checking that count() and a
// single page (newest first) agree with list().
std::vector<std::int64_t> ids_of(mxw::store::quarantine& qs, const list_filter& f)
{
    std::vector<std::int64_t> out;
    for (const auto& s : qs.list(f))
        out.push_back(s.id);
    CHECK(qs.count(f) == static_cast<std::int64_t>(out.size()));
    std::vector<std::int64_t> paged;
    for (const auto& s : qs.page(f, {}))
        paged.insert(paged.begin(), s.id);
    CHECK(paged == out);
    return out;
}

list_filter filter(const std::function<void(list_filter&)>& set)
{
    list_filter f;
    set(f);
    return f;
}

using ids = std::vector<std::int64_t>;

}  // namespace

TEST_CASE_METHOD(store_fixture, "the sender filter is exact and case-blind; empty is the null sender", "[quarantine][web]")
{
    auto a = qs.ingest(sample("A"), 1000).id;
    auto b_entry = sample("B");
    b_entry.sender = "Alice@Src.Example.org";
    auto b = qs.ingest(b_entry, 1001).id;
    auto c_entry = sample("C");
    c_entry.sender = "";
    auto c = qs.ingest(c_entry, 1002).id;

    CHECK(ids_of(qs, filter([](list_filter& f) { f.sender = "ALICE@src.EXAMPLE"; })) == ids{a});
    CHECK(ids_of(qs, filter([](list_filter& f) { f.sender = "alice@src.example.ORG"; })) == ids{b});
    CHECK(ids_of(qs, filter([](list_filter& f) { f.sender = ""; })) == ids{c});
    CHECK(ids_of(qs, filter([](list_filter& f) { f.sender = "alice"; })).empty());
    CHECK(ids_of(qs, filter([](list_filter& f) { f.sender = "alice@src.example"; f.reason = "null-mx"; })).empty());
}

TEST_CASE_METHOD(store_fixture, "the text filter finds a piece of sender, any recipient or subject, taken literally", "[quarantine][web]")
{
    auto by_sender = sample("S");
    by_sender.sender = "Boss@Corp.Example";
    auto s = qs.ingest(by_sender, 1000).id;
    auto by_rcpt = sample("R", {"first@one.example", "Second.Person@two.example"});
    auto r = qs.ingest(by_rcpt, 1001).id;
    auto pct = sample("P");
    pct.message = "Subject: 100% Off_Sale\\today\n\nbody\n";
    auto p = qs.ingest(pct, 1002).id;
    auto plain = sample("Q");
    plain.message = "Subject: 1000 Offxsale today\n\nbody\n";
    auto q = qs.ingest(plain, 1003).id;

    auto text = [&](std::string t) { return ids_of(qs, filter([&](list_filter& f) { f.text = t; })); };
    CHECK(text("corp.EX") == ids{s});
    // The second recipient counts, not only the first.
    CHECK(text("SECOND.person") == ids{r});
    CHECK(text("QUARTERLY") == ids{s, r});  // sample()'s subject
    // Wildcards and the escape character match only themselves.
    CHECK(text("100%") == ids{p});
    CHECK(text("0% off") == ids{p});
    CHECK(text("off_sale") == ids{p});
    CHECK(text("_") == ids{p});
    CHECK(text("%") == ids{p});
    CHECK(text("sale\\today") == ids{p});
    CHECK(text("\\") == ids{p});
    CHECK(text("1000") == ids{q});
    CHECK(text("nothing like this").empty());
    CHECK(ids_of(qs, filter([](list_filter& f) { f.text = "off"; f.state = entry_state::deleted; })).empty());
}

TEST_CASE_METHOD(store_fixture, "8-bit data in the store does not disturb a search", "[quarantine][web]")
{
    auto e = sample("E", {"b\xf6" "b@dest.example"});
    e.sender = "\xe4lice@src.example";
    e.message = "Subject: Gr\xfc\xdf" "e \x00 und \xff\n\nbody\n"s;
    auto id = qs.ingest(e, 1000).id;
    CHECK(ids_of(qs, filter([](list_filter& f) { f.text = "GR"; })) == ids{id});
    CHECK(ids_of(qs, filter([](list_filter& f) { f.text = "LICE@"; })) == ids{id});
    CHECK(ids_of(qs, filter([](list_filter& f) { f.sender = "\xe4LICE@src.example"; })) == ids{id});
    CHECK(ids_of(qs, filter([](list_filter& f) { f.text = "zzz"; })).empty());
}

TEST_CASE_METHOD(store_fixture, "only_domains shows entries whose every recipient is in the set", "[quarantine][web]")
{
    auto inside = qs.ingest(sample("I", {"a@one.example", "b@Two.Example"}), 1000).id;
    auto mixed = qs.ingest(sample("M", {"a@one.example", "c@three.example"}), 1001).id;
    auto single = qs.ingest(sample("S", {"d@ONE.example"}), 1002).id;
    auto outside = qs.ingest(sample("O", {"e@three.example"}), 1003).id;
    (void)mixed;
    (void)outside;

    auto only = [&](std::vector<std::string> set) {
        return ids_of(qs, filter([&](list_filter& f) { f.only_domains = set; }));
    };
    CHECK(only({"one.example", "two.example"}) == ids{inside, single});
    CHECK(only({"TWO.example", "One.Example"}) == ids{inside, single});
    // An entry with one recipient outside the set stays invisible.
    CHECK(only({"one.example"}) == ids{single});
    CHECK(only({"one.example", "one.example", "three.example"}) == ids{mixed, single, outside});
    CHECK(only({}).empty());
    CHECK(only({"four.example"}).empty());
    // With the other filters: AND.
    CHECK(ids_of(qs, filter([](list_filter& f) {
              f.only_domains = std::vector<std::string>{"one.example", "two.example"};
              f.domain = "two.example";
          })) == ids{inside});
}

TEST_CASE_METHOD(store_fixture, "pages go newest first from before_id, at most 500 at a time", "[quarantine][web]")
{
    std::vector<std::int64_t> all;
    for (int i = 0; i < 520; ++i)
        all.push_back(
            qs.ingest(sample("Q" + std::to_string(i), {"x" + std::to_string(i % 3) + "@dest.example"}), 1000 + i).id);
    CHECK(qs.count({}) == 520);

    auto first = qs.page({}, {std::nullopt, 3});
    REQUIRE(first.size() == 3);
    CHECK(first[0].id == all[519]);
    CHECK(first[1].id == all[518]);
    CHECK(first[2].id == all[517]);
    CHECK(first[0].first_recipient == "x0@dest.example");
    auto next = qs.page({}, {first.back().id, 2});
    REQUIRE(next.size() == 2);
    CHECK(next[0].id == all[516]);
    CHECK(next[1].id == all[515]);
    // The end: fewer than asked, then nothing.
    auto tail = qs.page({}, {all[2], 50});
    REQUIRE(tail.size() == 2);
    CHECK(tail[1].id == all[0]);
    CHECK(qs.page({}, {all[0], 50}).empty());
    CHECK(qs.page({}, {std::nullopt, 0}).empty());
    // However many are asked for, a page holds at most 500.
    CHECK(qs.page({}, {std::nullopt, 100000}).size() == mxw::store::max_page_entries);
    CHECK(page_request{}.limit == 50);

    // Paging with a filter walks exactly the filtered entries.
    auto f = filter([](list_filter& lf) { lf.text = "x1@"; });
    std::vector<std::int64_t> walked;
    std::optional<std::int64_t> before;
    for (;;) {
        auto p = qs.page(f, {before, 64});
        if (p.empty())
            break;
        for (const auto& s : p)
            walked.push_back(s.id);
        before = p.back().id;
    }
    CHECK(static_cast<std::int64_t>(walked.size()) == qs.count(f));
    CHECK(walked.size() == 173);
    CHECK(std::is_sorted(walked.rbegin(), walked.rend()));
}

TEST_CASE_METHOD(store_fixture, "count follows every filter", "[quarantine][web]")
{
    qs.ingest(sample("A"), 1000);
    auto b = qs.ingest(sample("B", {"x@other.example"}), 2000).id;
    qs.remove(b, 2001, "");
    CHECK(qs.count({}) == 2);
    CHECK(qs.count(filter([](list_filter& f) { f.state = entry_state::held; })) == 1);
    CHECK(qs.count(filter([](list_filter& f) { f.since = 1500; })) == 1);
    CHECK(qs.count(filter([](list_filter& f) { f.domain = "OTHER.example"; })) == 1);
    CHECK(qs.count(filter([](list_filter& f) { f.reason = "nope"; })) == 0);
}

TEST_CASE_METHOD(store_fixture, "a delete names who did it in the history", "[quarantine][web]")
{
    auto a = qs.ingest(sample("A"), 1000).id;
    auto b = qs.ingest(sample("B"), 1000).id;
    CHECK(qs.remove(a, 1001, "web:alice"));
    CHECK(qs.remove(b, 1001, ""));
    CHECK_FALSE(qs.remove(a, 1002, "web:bob"));
    auto da = qs.find(a);
    REQUIRE(da);
    CHECK(da->history.back().event == "deleted");
    CHECK(da->history.back().detail == "by web:alice");
    CHECK(qs.find(b)->history.back().detail.empty());
}

TEST_CASE_METHOD(store_fixture, "purge removes old released and deleted entries, held ones only on request", "[quarantine]")
{
    auto held_old = qs.ingest(sample("H"), 100).id;
    auto released_old = qs.ingest(sample("R"), 100).id;
    REQUIRE(qs.claim_release(released_old, {9, 150}, never_stale).what == claim_result::kind::claimed);
    qs.mark_released(released_old, 9, 1, 200, "ok");
    auto deleted_old = qs.ingest(sample("D"), 100).id;
    qs.remove(deleted_old, 200, "");
    auto released_new = qs.ingest(sample("N"), 100).id;
    REQUIRE(qs.claim_release(released_new, {9, 4000}, never_stale).what == claim_result::kind::claimed);
    qs.mark_released(released_new, 9, 1, 5000, "ok");

    CHECK(qs.purge(1000) == 2);
    CHECK(qs.find(held_old));
    CHECK_FALSE(qs.find(released_old));
    CHECK_FALSE(qs.find(deleted_old));
    CHECK(qs.find(released_new));
    // The fingerprint went with the entry: the same delivery is new again.
    CHECK(qs.ingest(sample("R"), 6000).what == ingest_result::kind::stored);

    CHECK(qs.purge(1000, true) == 1);
    CHECK_FALSE(qs.find(held_old));
    CHECK(qs.purge(1000, true) == 0);
}

TEST_CASE_METHOD(store_fixture, "stats counts entries and message bytes by state and reason", "[quarantine]")
{
    auto size = static_cast<std::int64_t>(sample().message.size());
    qs.ingest(sample("A"), 1);
    qs.ingest(sample("B"), 1);
    qs.remove(qs.ingest(sample("C"), 1).id, 2, "");
    auto rows = qs.stats();
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].state == entry_state::deleted);
    CHECK(rows[0].count == 1);
    CHECK(rows[0].bytes == 0);
    CHECK(rows[1].state == entry_state::held);
    CHECK(rows[1].reason == "dns-failure");
    CHECK(rows[1].count == 2);
    CHECK(rows[1].bytes == 2 * size);
}

TEST_CASE_METHOD(store_fixture, "of two connections claiming one entry, exactly one gets it", "[quarantine][release]")
{
    auto& a = qs;
    auto other = backend->open("node-b");
    auto& b = *other;
    auto id = a.ingest(sample(), 1000).id;

    CHECK(a.claim_release(id, {100, 1100}, never_stale).what == claim_result::kind::claimed);
    auto busy = b.claim_release(id, {200, 1101}, never_stale);
    CHECK(busy.what == claim_result::kind::busy);
    REQUIRE(busy.holder);
    CHECK(busy.holder->pid == 100);
    CHECK(busy.holder->at == 1100);
    CHECK(busy.holder->node == backend->reported_node("node-a"));
    CHECK(b.find(id)->summary.state == entry_state::releasing);

    REQUIRE(a.mark_released(id, 100, 1, 1102, "via sendmail x"));
    auto done = b.claim_release(id, {200, 1103}, always_stale);
    CHECK(done.what == claim_result::kind::not_held);
    CHECK(done.state == entry_state::released);
    CHECK(b.claim_release(id + 1, {200, 1103}, always_stale).what == claim_result::kind::unknown);
    auto d = b.find(id);
    CHECK(d->summary.state == entry_state::released);
    REQUIRE(d->history.size() == 3);
    CHECK(d->history[1].event == "releasing");
    CHECK_THAT(d->history[1].detail, Catch::StartsWith("pid=100"));
    CHECK(d->history[2].event == "released");
}

TEST_CASE_METHOD(store_fixture, "a stale claim is taken over; the old claimer can no longer finish", "[quarantine][release]")
{
    auto id = qs.ingest(sample(), 1000).id;
    REQUIRE(qs.claim_release(id, {100, 1100}, never_stale).what == claim_result::kind::claimed);
    // The predicate sees the claim it judges.
    release_claim seen;
    auto r = qs.claim_release(id, {200, 1200}, [&](const release_claim& c) {
        seen = c;
        return true;
    });
    CHECK(seen.pid == 100);
    CHECK(seen.at == 1100);
    CHECK(r.what == claim_result::kind::claimed);
    REQUIRE(r.holder);
    CHECK(r.holder->pid == 100);
    CHECK_THAT(qs.find(id)->history.back().detail, Catch::Contains("took over the claim of pid=100"));
    // The first release wakes up late: its outcome changes nothing.
    qs.record_release_failure(id, 100, 1201, "late failure");
    CHECK(qs.find(id)->summary.state == entry_state::releasing);
    REQUIRE(qs.mark_released(id, 100, 1, 1202, "late success"));
    CHECK(qs.find(id)->summary.state == entry_state::releasing);
    CHECK_THAT(qs.find(id)->history.back().detail, Catch::Contains("it is releasing now"));
    REQUIRE(qs.mark_released(id, 200, 1, 1203, "via sendmail x"));
    CHECK(qs.find(id)->summary.state == entry_state::released);
    // Deleting a claimed entry drops the claim with it.
    auto other = qs.ingest(sample("Q2"), 1300).id;
    REQUIRE(qs.claim_release(other, {300, 1300}, never_stale).what == claim_result::kind::claimed);
    CHECK(qs.remove(other, 1301, ""));
    CHECK(qs.claim_release(other, {301, 1302}, always_stale).what == claim_result::kind::not_held);
}

TEST_CASE_METHOD(store_fixture, "the size limit refuses new entries and nothing else", "[quarantine][size]")
{
    auto first = qs.ingest(sample("Q1"), 1000, std::nullopt, 10ULL << 20);
    const auto used = qs.usage().used_bytes;
    CHECK(used > 0);
    auto big = sample("Q2");
    big.message.append(100000, 'x');
    try {
        qs.ingest(big, 1001, std::nullopt, used + 50000);
        FAIL("an ingest past the limit was stored");
    } catch (const mxw::store::quarantine_full& e) {
        CHECK(e.used() == used);
        CHECK(e.limit() == used + 50000);
        CHECK_THAT(e.what(), Catch::Contains("quarantine full"));
    }
    CHECK(qs.list(list_filter{}).size() == 1);
    // A repeated delivery adds nothing, so it is recognised even when full.
    CHECK(qs.ingest(sample("Q1"), 1002, std::nullopt, 1).what == ingest_result::kind::duplicate);
    CHECK(qs.ingest(big, 1003, std::nullopt, used + 200000).what == ingest_result::kind::stored);
    CHECK(first.id == 1);
    // Configured wins (unset: see each backend's tests).
    CHECK(qs.max_bytes(12345) == 12345);
}

TEST_CASE_METHOD(store_fixture, "8-bit envelope and header bytes come back exactly", "[quarantine]")
{
    // Mail is 8-bit: a Latin-1 subject, a NUL in a header, a raw byte in an
    // address. None of it may be changed or refused.
    auto e = sample("Q\xe9", {"b\xf6" "b@dest.example"});
    e.sender = "\xe4lice@src.example";
    e.reason_text = "caf\xe9"s;
    e.evidence = "{\"x\":\"\xff\"}";
    e.message = "Subject: Gr\xfc\xdf" "e \x00 und \xff\nFrom: \xa0\n\nbody\n"s;
    auto id = qs.ingest(e, 1000).id;
    auto d = qs.find(id);
    REQUIRE(d);
    CHECK(d->summary.sender == e.sender);
    CHECK(d->summary.first_recipient == e.recipients.front());
    CHECK(d->summary.subject == "Gr\xfc\xdf" "e \x00 und \xff"s);
    CHECK(d->header_from == "\xa0");
    CHECK(d->queue_id == e.queue_id);
    CHECK(d->reason_text == e.reason_text);
    CHECK(d->evidence == e.evidence);
    CHECK(d->recipients == e.recipients);
    CHECK(qs.message(id) == e.message);
    CHECK(qs.list([] { list_filter f; f.domain = "DEST.example"; return f; }()).size() == 1);
    // The same bytes again are the same delivery.
    CHECK(qs.ingest(e, 1001).what == ingest_result::kind::duplicate);
}

TEST_CASE_METHOD(store_fixture, "entries and claims name the node that made them", "[quarantine][release]")
{
    auto a = qs.ingest(sample("A"), 1000).id;
    auto other = backend->open("node-b");
    auto b = other->ingest(sample("B"), 1001).id;
    auto all = qs.list({});
    REQUIRE(all.size() == 2);
    CHECK(all[0].node == backend->reported_node("node-a"));
    CHECK(all[1].node == backend->reported_node("node-b"));
    CHECK(other->find(a)->summary.node == backend->reported_node("node-a"));

    REQUIRE(other->claim_release(a, {7, 1100}, never_stale).what == claim_result::kind::claimed);
    release_claim seen;
    auto busy = qs.claim_release(a, {8, 1101}, [&](const release_claim& c) {
        seen = c;
        return false;
    });
    CHECK(busy.what == claim_result::kind::busy);
    CHECK(seen.node == backend->reported_node("node-b"));
    CHECK(seen.pid == 7);
    CHECK(qs.find(b)->summary.state == entry_state::held);
}
