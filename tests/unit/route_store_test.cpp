// The last-known-good route store: what is saved comes back after a
// restart, a route without hosts is forgotten, and a database from a newer
// mxwardend is refused instead of being misread.
#include "store/route_store.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>

namespace fs = std::filesystem;
using mxw::store::route_store;
using mxw::store::saved_host;
using mxw::store::saved_route;

namespace {

struct temp_db {
    fs::path dir;
    temp_db()
    {
        std::string tmpl = (fs::temp_directory_path() / "mxw-route-store-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        dir = tmpl;
    }
    ~temp_db() { fs::remove_all(dir); }
    [[nodiscard]] std::string path() const { return (dir / "routes.db").string(); }
};

saved_route route(const std::string& dest, std::int64_t at)
{
    saved_route r;
    r.destination = dest;
    r.ttl = 300;
    r.evidence = "MX " + dest + " ok";
    r.saved_at = at;
    r.hosts = {saved_host{10, "mx1." + dest, {"192.0.2.1", "2001:db8::1"}}, saved_host{20, "mx2." + dest, {"192.0.2.2"}}};
    return r;
}

}  // namespace

TEST_CASE("route store: saved routes survive reopening, newest first", "[store]")
{
    temp_db t;
    {
        route_store s(t.path());
        s.save(route("a.example", 100));
        s.save(route("b.example", 200));
        auto smart = route("[relay.example.net]", 150);
        smart.implicit = true;
        smart.hosts = {saved_host{0, "relay.example.net", {"198.51.100.7"}}};
        s.save(smart);
    }
    route_store s(t.path());
    auto got = s.load(10);
    REQUIRE(got.size() == 3);
    CHECK(got[0].destination == "b.example");
    CHECK(got[1].destination == "[relay.example.net]");
    CHECK(got[1].implicit);
    CHECK(got[2].destination == "a.example");
    REQUIRE(got[2].hosts.size() == 2);
    CHECK(got[2].hosts[0].name == "mx1.a.example");
    CHECK(got[2].hosts[0].preference == 10);
    CHECK(got[2].hosts[0].addresses == std::vector<std::string>{"192.0.2.1", "2001:db8::1"});
    CHECK(got[2].hosts[1].addresses == std::vector<std::string>{"192.0.2.2"});
    CHECK(got[2].evidence == "MX a.example ok");
    CHECK(s.load(1).size() == 1);
}

TEST_CASE("route store: a new save replaces, a save without hosts forgets", "[store]")
{
    temp_db t;
    route_store s(t.path());
    s.save(route("a.example", 100));
    auto changed = route("a.example", 300);
    changed.hosts.pop_back();
    s.save(changed);
    auto got = s.load(10);
    REQUIRE(got.size() == 1);
    CHECK(got[0].hosts.size() == 1);
    CHECK(got[0].saved_at == 300);
    saved_route gone;
    gone.destination = "a.example";
    s.save(gone);  // it turned null MX: never revive that route after a restart
    CHECK(s.load(10).empty());
}

TEST_CASE("route store: a schema from a newer version is refused", "[store]")
{
    temp_db t;
    {
        mxw::store::database db(t.path(), mxw::store::database::mode::read_write_create);
        db.set_user_version(99);
    }
    CHECK_THROWS_WITH(route_store(t.path()), Catch::Contains("newer than this mxwardend knows"));
}
