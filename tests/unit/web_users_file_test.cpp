#include "web/users_file.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace mxw::web;

TEST_CASE("users file: re-read when it changes, last good list kept over a broken one", "[web][users]")
{
    std::string tmpl = (fs::temp_directory_path() / "mxw-users-file-test-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()));
    const fs::path dir = tmpl;
    const std::string path = (dir / "web-users").string();
    // Any well-formed hash will do: nothing logs in here.
    const std::string hash = hash_password("pw");

    users_file f(path);
    CHECK(f.current().empty());
    CHECK_FALSE(f.last_error().empty());

    save_users(path, {{"admin", role::admin, {}, hash}});
    REQUIRE(f.current().size() == 1);
    CHECK(f.current()[0].name == "admin");
    CHECK(f.last_error().empty());

    save_users(path, {{"admin", role::admin, {}, hash}, {"alice", role::reviewer, {"example.org"}, hash}});
    REQUIRE(f.current().size() == 2);
    CHECK(f.current()[1].domains == std::vector<std::string>{"example.org"});

    {
        std::ofstream out(path, std::ios::trunc);
        out << "this is not a users file\n";
    }
    CHECK(f.current().size() == 2);
    CHECK_FALSE(f.last_error().empty());

    save_users(path, {{"alice", role::reviewer, {"example.org"}, hash}});
    REQUIRE(f.current().size() == 1);
    CHECK(f.current()[0].name == "alice");

    fs::remove(path);
    CHECK(f.current().empty());
    fs::remove_all(dir);
}
