// Tests for store/quarantine_store against temporary SQLite files: schema
// migration (from an empty file and from a version-1 store) and refusal of
// newer schemas, ingest (new, repeated delivery, a released message coming
// back, a forged tracking header, the size limit), release claims, listing
// filters, state changes, purge rules and the file shrinking after them,
// file modes and listing speed.
#include "store/quarantine_store.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace std::string_literals;
namespace fs = std::filesystem;
using mxw::store::entry_state;
using mxw::store::ingest_result;
using mxw::store::list_filter;
using mxw::store::new_entry;
using mxw::store::quarantine_store;
using mxw::store::claim_result;
using mxw::store::release_claim;

namespace {

class temp_dir {
public:
    temp_dir()
    {
        std::string tmpl = (fs::temp_directory_path() / "mxw-quarantine-test-XXXXXX").string();
        if (!mkdtemp(tmpl.data()))
            throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~temp_dir()
    {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
    fs::path path_;
};

new_entry sample(std::string queue_id = "4XyZ1", std::vector<std::string> rcpts = {"bob@dest.example", "carol@Dest.Example"})
{
    new_entry e;
    e.reason = "dns-failure";
    e.queue_id = std::move(queue_id);
    e.sender = "alice@src.example";
    e.recipients = std::move(rcpts);
    e.message = "From: Alice <alice@src.example>\nSubject: quarterly\n report\nMessage-ID: <m1@src.example>\n\nbody\0bytes\xff\n"s;
    return e;
}

bool never_stale(const release_claim&) { return false; }
bool always_stale(const release_claim&) { return true; }

}  // namespace

TEST_CASE("a new store is created at the current schema, private", "[quarantine]")
{
    temp_dir dir;
    auto old = ::umask(022);
    {
        quarantine_store qs(dir.file("sub/q.db"));
        CHECK(qs.db().user_version() == mxw::store::quarantine_schema_version);
    }
    ::umask(old);
    struct stat st {};
    REQUIRE(::stat(dir.file("sub/q.db").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0640);
    REQUIRE(::stat(dir.file("sub").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0750);
}

TEST_CASE("an empty version-0 database is migrated; a newer one is refused", "[quarantine]")
{
    temp_dir dir;
    {
        mxw::store::database db(dir.file("q.db"), mxw::store::database::mode::read_write_create);
        CHECK(db.user_version() == 0);
    }
    {
        quarantine_store qs(dir.file("q.db"));
        CHECK(qs.db().user_version() == mxw::store::quarantine_schema_version);
        // Opening again migrates nothing and keeps the data.
        qs.ingest(sample(), 1000);
    }
    {
        quarantine_store qs(dir.file("q.db"));
        CHECK(qs.list({}).size() == 1);
        qs.db().set_user_version(mxw::store::quarantine_schema_version + 1);
    }
    try {
        quarantine_store qs(dir.file("q.db"));
        FAIL("a newer schema was accepted");
    } catch (const mxw::store::schema_error& e) {
        CHECK_THAT(e.what(), Catch::Contains("schema version 3") && Catch::Contains("newer mxwarden"));
    }
}

TEST_CASE("ingest stores envelope, summary fields and the exact bytes", "[quarantine]")
{
    quarantine_store qs(":memory:");
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

TEST_CASE("the null sender and garbage bodies are stored like any mail", "[quarantine]")
{
    quarantine_store qs(":memory:");
    auto e = sample();
    e.sender = "";
    e.message = std::string("\x00\x01\xfe\r\r\n\n", 7);
    auto r = qs.ingest(e, 1);
    CHECK(qs.message(r.id) == e.message);
    CHECK(qs.find(r.id)->summary.subject.empty());
}

TEST_CASE("a repeated delivery is a no-op; a different one is not", "[quarantine]")
{
    quarantine_store qs(":memory:");
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

TEST_CASE("a released message that comes back updates its own entry", "[quarantine]")
{
    quarantine_store qs(":memory:");
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

TEST_CASE("a tracking header that does not fit its entry makes a new entry", "[quarantine]")
{
    quarantine_store qs(":memory:");
    auto id = qs.ingest(sample(), 1000).id;
    auto forged = sample("Q2");
    forged.sender = "mallory@evil.example";
    CHECK(qs.ingest(forged, 1001, id).what == ingest_result::kind::stored);
    auto stranger = sample("Q3", {"dave@other.example"});
    CHECK(qs.ingest(stranger, 1002, id).what == ingest_result::kind::stored);
    CHECK(qs.ingest(sample("Q4"), 1003, 999).what == ingest_result::kind::stored);
    qs.remove(id, 1004);
    CHECK(qs.ingest(sample("Q5"), 1005, id).what == ingest_result::kind::stored);
    CHECK(qs.find(id)->summary.attempts == 1);
}

TEST_CASE("a message that came back before its release was recorded stays held", "[quarantine]")
{
    quarantine_store qs(":memory:");
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

TEST_CASE("release failures, delete and the message blob", "[quarantine]")
{
    quarantine_store qs(":memory:");
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
    CHECK(qs.remove(id, 1002));
    CHECK_FALSE(qs.remove(id, 1003));
    CHECK_FALSE(qs.message(id));
    d = qs.find(id);
    REQUIRE(d);
    CHECK(d->summary.state == entry_state::deleted);
    CHECK_FALSE(d->has_message);
    CHECK(d->history.back().event == "deleted");
}

TEST_CASE("list filters by state, reason, recipient domain and age", "[quarantine]")
{
    quarantine_store qs(":memory:");
    auto a = qs.ingest(sample("A"), 1000).id;
    auto b_entry = sample("B", {"x@other.example"});
    b_entry.reason = "null-mx";
    auto b = qs.ingest(b_entry, 2000).id;
    auto c = qs.ingest(sample("C"), 3000).id;
    qs.remove(c, 3001);

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

TEST_CASE("purge removes old released and deleted entries, held ones only on request", "[quarantine]")
{
    quarantine_store qs(":memory:");
    auto held_old = qs.ingest(sample("H"), 100).id;
    auto released_old = qs.ingest(sample("R"), 100).id;
    REQUIRE(qs.claim_release(released_old, {9, 150}, never_stale).what == claim_result::kind::claimed);
    qs.mark_released(released_old, 9, 1, 200, "ok");
    auto deleted_old = qs.ingest(sample("D"), 100).id;
    qs.remove(deleted_old, 200);
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

TEST_CASE("stats counts entries and message bytes by state and reason", "[quarantine]")
{
    quarantine_store qs(":memory:");
    auto size = static_cast<std::int64_t>(sample().message.size());
    qs.ingest(sample("A"), 1);
    qs.ingest(sample("B"), 1);
    qs.remove(qs.ingest(sample("C"), 1).id, 2);
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

TEST_CASE("listing stays fast with many entries and never reads bodies", "[quarantine]")
{
    temp_dir dir;
    quarantine_store qs(dir.file("q.db"));
    constexpr int n = 20000;
    auto e = sample();
    e.message.append(3000, 'b');  // a body fills most of a page; a summary does not
    // One fsync per ingest is right for mail and far too slow to fill a test store.
    qs.db().exec("PRAGMA synchronous=OFF");
    for (int i = 0; i < n; ++i) {
        e.queue_id = "Q" + std::to_string(i);
        e.recipients = {"user@d" + std::to_string(i % 100) + ".example"};
        qs.ingest(e, 1000 + i);
    }
    auto start = std::chrono::steady_clock::now();
    CHECK(qs.list({}).size() == n);
    CHECK(qs.list([] { list_filter f; f.domain = "d7.example"; return f; }()).size() == n / 100);
    CHECK(qs.list([] { list_filter f; f.since = 1000 + n - 10; return f; }()).size() == 10);
    auto took = std::chrono::steady_clock::now() - start;
    // Generous for sanitizer builds; reading the bodies would take far longer.
    CHECK(took < std::chrono::seconds(3));
}

TEST_CASE("a version-1 store is migrated in place: data, ids and cascades kept", "[quarantine][migration]")
{
    temp_dir dir;
    {
        // A store as mxwarden with schema 1 left it: three entries, the
        // newest purged (so the id high-water mark is above every row).
        mxw::store::database db(dir.file("q.db"), mxw::store::database::mode::read_write_create);
        mxw::store::migrate_quarantine(db, 1);
        REQUIRE(db.user_version() == 1);
        for (int i = 1; i <= 3; ++i) {
            db.prepare("INSERT INTO entries (created, updated, state, reason, sender, first_recipient,"
                       " recipient_count, size, attempts) VALUES (?1, ?1, ?2, 'dns-failure', 'a@x.example',"
                       " 'b@y.example', 1, 4, 1)")
                .bind(1, std::int64_t{1000 + i})
                .bind(2, i == 2 ? "released" : "held")
                .run();
            db.prepare("INSERT INTO messages (entry_id, body) VALUES (?1, 'body')").bind(1, std::int64_t{i}).run();
            db.prepare("INSERT INTO recipients (entry_id, address, domain) VALUES (?1, 'b@y.example', 'y.example')")
                .bind(1, std::int64_t{i})
                .run();
            db.prepare("INSERT INTO history (entry_id, at, event) VALUES (?1, 1000, 'quarantined')")
                .bind(1, std::int64_t{i})
                .run();
        }
        db.exec("DELETE FROM entries WHERE id = 3");
        // A v1 file was made without auto-vacuum.
        auto av = db.prepare("PRAGMA auto_vacuum");
        REQUIRE(av.step());
        CHECK(av.integer(0) == 0);
    }
    quarantine_store qs(dir.file("q.db"), mxw::store::database::mode::read_write);
    CHECK(qs.db().user_version() == 2);
    auto av = qs.db().prepare("PRAGMA auto_vacuum");
    REQUIRE(av.step());
    CHECK(av.integer(0) == 2);  // incremental, after the migration's VACUUM
    auto all = qs.list(list_filter{});
    REQUIRE(all.size() == 2);
    CHECK(all[0].state == entry_state::held);
    CHECK(all[1].state == entry_state::released);
    CHECK(qs.message(1) == "body");
    CHECK(qs.find(1)->history.size() == 1);
    // The purged id 3 is not handed out again.
    CHECK(qs.ingest(sample(), 2000).id == 4);
    // The new state and the claim columns work; the cascades still do.
    CHECK(qs.claim_release(1, {7, 2001}, never_stale).what == claim_result::kind::claimed);
    CHECK(qs.purge(5000, true) == 3);
    auto orphans = qs.db().prepare("SELECT (SELECT count(*) FROM messages) + (SELECT count(*) FROM recipients)"
                                   " + (SELECT count(*) FROM history) + (SELECT count(*) FROM deliveries)");
    REQUIRE(orphans.step());
    CHECK(orphans.integer(0) == 0);
}

TEST_CASE("of two connections claiming one entry, exactly one gets it", "[quarantine][release]")
{
    temp_dir dir;
    quarantine_store a(dir.file("q.db"));
    quarantine_store b(dir.file("q.db"));
    auto id = a.ingest(sample(), 1000).id;

    CHECK(a.claim_release(id, {100, 1100}, never_stale).what == claim_result::kind::claimed);
    auto busy = b.claim_release(id, {200, 1101}, never_stale);
    CHECK(busy.what == claim_result::kind::busy);
    REQUIRE(busy.holder);
    CHECK(busy.holder->pid == 100);
    CHECK(busy.holder->at == 1100);
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
    CHECK(d->history[1].detail == "pid=100");
    CHECK(d->history[2].event == "released");
}

TEST_CASE("a stale claim is taken over; the old claimer can no longer finish", "[quarantine][release]")
{
    quarantine_store qs(":memory:");
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
    CHECK(qs.remove(other, 1301));
    CHECK(qs.claim_release(other, {301, 1302}, always_stale).what == claim_result::kind::not_held);
}

TEST_CASE("the size limit refuses new entries and nothing else", "[quarantine][size]")
{
    temp_dir dir;
    quarantine_store qs(dir.file("q.db"));
    auto first = qs.ingest(sample("Q1"), 1000, std::nullopt, 10ULL << 20);
    const auto used = qs.usage().used_bytes;
    CHECK(used > 0);
    CHECK(qs.usage().file_bytes >= used);
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
    // Configured wins; auto is never above 10 GiB.
    CHECK(qs.max_bytes(12345) == 12345);
    CHECK(qs.max_bytes(std::nullopt) <= (10ULL << 30));
    CHECK(qs.max_bytes(std::nullopt) > 0);
}

TEST_CASE("the default limit is 10 GiB or 80% of file plus free space", "[quarantine][size]")
{
    constexpr std::uint64_t gib = 1ULL << 30;
    CHECK(mxw::store::default_max_bytes(0, 100 * gib) == 10 * gib);
    CHECK(mxw::store::default_max_bytes(1 * gib, 4 * gib) == 4 * gib);
    CHECK(mxw::store::default_max_bytes(0, 0) == 0);
    CHECK(mxw::store::default_max_bytes(500, 0) == 400);
    // Huge file systems do not overflow.
    CHECK(mxw::store::default_max_bytes(~0ULL, ~0ULL) == 10 * gib);
}

TEST_CASE("purge and delete give the space back: the file shrinks", "[quarantine][size]")
{
    temp_dir dir;
    const auto path = dir.file("q.db");
    quarantine_store qs(path);
    qs.db().exec("PRAGMA synchronous=OFF");
    auto e = sample();
    e.message.append(200000, 'b');
    std::vector<std::int64_t> ids;
    for (int i = 0; i < 40; ++i) {
        e.queue_id = "Q" + std::to_string(i);
        ids.push_back(qs.ingest(e, 1000).id);
    }
    qs.db().exec("PRAGMA wal_checkpoint(TRUNCATE)");
    const auto full = fs::file_size(path);
    CHECK(full > 40 * 200000);

    for (int i = 0; i < 20; ++i)
        CHECK(qs.remove(ids[static_cast<std::size_t>(i)], 1001));
    const auto after_delete = fs::file_size(path);
    CHECK(after_delete < full - 15 * 200000);
    CHECK(fs::file_size(path + "-wal") == 0);

    CHECK(qs.purge(5000, true) == 40);
    const auto after_purge = fs::file_size(path);
    CHECK(after_purge < 200000);
    CHECK(qs.usage().file_bytes == after_purge);
}

TEST_CASE("a store whose switch to auto-vacuum cannot run now is still usable", "[quarantine][migration]")
{
    temp_dir dir;
    const auto path = dir.file("q.db");
    auto auto_vacuum = [](mxw::store::database& db) {
        auto st = db.prepare("PRAGMA auto_vacuum");
        return st.step() ? st.integer(0) : -1;
    };
    {
        quarantine_store qs(path);
        qs.ingest(sample(), 1000);
        // As if the migration's VACUUM had not happened (crash, no room).
        qs.db().exec("PRAGMA auto_vacuum=NONE");
        qs.db().exec("VACUUM");
        REQUIRE(auto_vacuum(qs.db()) == 0);
    }
    {
        // Another writer holds the lock for longer than the busy timeout:
        // the open goes on without the VACUUM, and ingest still works
        // once the lock is free.
        mxw::store::database other(path, mxw::store::database::mode::read_write);
        mxw::store::transaction busy(other);
        quarantine_store qs(path, mxw::store::database::mode::read_write);
        CHECK(auto_vacuum(qs.db()) == 0);
        CHECK(qs.list(list_filter{}).size() == 1);
    }
    // The next opener with the lock and the room finishes the switch.
    quarantine_store qs(path, mxw::store::database::mode::read_write);
    CHECK(auto_vacuum(qs.db()) == 2);
    CHECK(qs.list(list_filter{}).size() == 1);
}
