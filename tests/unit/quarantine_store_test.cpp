// Tests for store/quarantine_store, the SQLite backend: the quarantine
// contract (../store/quarantine_contract.cpp) against temporary SQLite
// files, and what only SQLite has: schema migration (from an empty file
// and from a version-1 store) and refusal of newer schemas by
// user_version, file modes, the default size limit, the file shrinking
// after purge and delete, and listing speed.
#include "store/quarantine_backend.hpp"
#include "store/quarantine_store.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;
using mxw::store::claim_result;
using mxw::store::entry_state;
using mxw::store::ingest_result;
using mxw::store::list_filter;
using mxw::store::quarantine_store;
using mxw::test::never_stale;
using mxw::test::sample;

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

// One file per case, so that several handles share it as processes do.
class sqlite_backend final : public mxw::test::quarantine_backend {
public:
    std::unique_ptr<mxw::store::quarantine> open(const std::string&) override
    {
        return std::make_unique<quarantine_store>(dir_.file("q.db"));
    }
    [[nodiscard]] std::string reported_node(const std::string&) const override { return ""; }

private:
    temp_dir dir_;
};

}  // namespace

std::unique_ptr<mxw::test::quarantine_backend> mxw::test::make_quarantine_backend()
{
    return std::make_unique<sqlite_backend>();
}

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
        CHECK_THAT(e.what(), Catch::Contains("schema version " + std::to_string(mxw::store::quarantine_schema_version + 1)) && Catch::Contains("newer mxwarden"));
    }
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
    CHECK(qs.db().user_version() == mxw::store::quarantine_schema_version);
    auto av = qs.db().prepare("PRAGMA auto_vacuum");
    REQUIRE(av.step());
    CHECK(av.integer(0) == 2);  // incremental, after the migration's VACUUM
    auto all = qs.list(list_filter{});
    REQUIRE(all.size() == 2);
    // Version 3's indexes cover the rows version 1 wrote.
    list_filter by_sender;
    by_sender.sender = "A@X.example";
    CHECK(qs.count(by_sender) == 2);
    CHECK(qs.page(by_sender, {std::nullopt, 1}).at(0).id == 2);
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
        CHECK(qs.remove(ids[static_cast<std::size_t>(i)], 1001, ""));
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

TEST_CASE("unset, the size limit follows the disk; the file holds what is used", "[quarantine][size]")
{
    temp_dir dir;
    quarantine_store qs(dir.file("q.db"));
    qs.ingest(sample(), 1000);
    CHECK(qs.usage().used_bytes > 0);
    CHECK(qs.usage().file_bytes >= qs.usage().used_bytes);
    // Never above 10 GiB.
    CHECK(qs.max_bytes(std::nullopt) <= (10ULL << 30));
    CHECK(qs.max_bytes(std::nullopt) > 0);
}
