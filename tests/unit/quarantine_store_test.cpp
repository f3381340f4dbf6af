// Tests for store/quarantine_store against temporary SQLite files: schema
// migration and refusal of newer schemas, ingest (new, repeated delivery,
// a released message coming back, a forged tracking header), listing
// filters, state changes, purge rules, file modes and listing speed.
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
        CHECK(qs.db().user_version() == 1);
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
        CHECK_THAT(e.what(), Catch::Contains("schema version 2") && Catch::Contains("newer mxwarden"));
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
    REQUIRE(qs.mark_released(id, 1, 1100, "via smtp:127.0.0.1:25: 250 ok"));
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
    CHECK(qs.ingest(sample("BACK"), 1001, id).what == ingest_result::kind::returned);
    REQUIRE(qs.mark_released(id, 1, 1002, "via sendmail /usr/sbin/sendmail"));
    auto d = qs.find(id);
    CHECK(d->summary.state == entry_state::held);
    CHECK(d->recipients.size() == 2);
    CHECK_THAT(d->history.back().detail, Catch::Contains("come back"));
    CHECK_FALSE(qs.mark_released(id + 7, 1, 1003, ""));
}

TEST_CASE("release failures, delete and the message blob", "[quarantine]")
{
    quarantine_store qs(":memory:");
    auto id = qs.ingest(sample(), 1000).id;
    qs.record_release_failure(id, 1001, "127.0.0.1:25: connect: Connection refused");
    auto d = qs.find(id);
    CHECK(d->summary.state == entry_state::held);
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
    qs.mark_released(released_old, 1, 200, "ok");
    auto deleted_old = qs.ingest(sample("D"), 100).id;
    qs.remove(deleted_old, 200);
    auto released_new = qs.ingest(sample("N"), 100).id;
    qs.mark_released(released_new, 1, 5000, "ok");

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
