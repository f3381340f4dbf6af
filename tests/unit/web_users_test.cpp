// Tests for web/users: the users file codec (round trip, every refusal with
// its line), load and atomic save (mode, group, a missing file), Argon2id
// hashes, and which entries a reviewer may see.
#include "web/users.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

namespace web = mxw::web;
namespace fs = std::filesystem;

namespace {

// A well-formed hash for codec tests; no test verifies a password with it.
const std::string fake_hash = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA";

web::web_user admin(std::string name) { return {std::move(name), web::role::admin, {}, fake_hash}; }
web::web_user reviewer(std::string name, std::vector<std::string> domains)
{
    return {std::move(name), web::role::reviewer, std::move(domains), fake_hash};
}

class temp_dir {
public:
    temp_dir()
    {
        std::string tmpl = (fs::temp_directory_path() / "mxw-web-users-test-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path_ = tmpl;
    }
    ~temp_dir() { fs::remove_all(path_); }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }
    [[nodiscard]] const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

std::string parse_error(const std::string& text)
{
    try {
        web::parse_users(text, "/etc/web-users");
    } catch (const web::users_error& e) {
        CHECK(e.why() == web::users_error::kind::syntax);
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("users file: parse, comments, domains lower-cased, format round trip", "[web][users]")
{
    const std::string text = "# the web view's users\n"
                             "\n"
                             "alice:admin::" + fake_hash + "\n"
                             "  # indented comment\n"
                             "\tbob.r@corp-1_x:reviewer:Example.COM,example.org:" + fake_hash + "  \n"
                             "carol:reviewer:sub.example.net:" + fake_hash;  // no final newline
    auto users = web::parse_users(text, "f");
    REQUIRE(users.size() == 3);
    CHECK(users[0] == admin("alice"));
    CHECK(users[1] == reviewer("bob.r@corp-1_x", {"example.com", "example.org"}));
    CHECK(users[2] == reviewer("carol", {"sub.example.net"}));

    auto formatted = web::format_users(users);
    CHECK(formatted.find("bob.r@corp-1_x:reviewer:example.com,example.org:$argon2id$") != std::string::npos);
    CHECK(web::parse_users(formatted, "f") == users);
    CHECK(web::parse_users(web::format_users({}), "f").empty());
    CHECK(web::parse_users("", "f").empty());
}

TEST_CASE("users file: every refusal names the file and the line", "[web][users]")
{
    const std::string ok = "alice:admin::" + fake_hash + "\n";
    struct bad_case {
        const char* label;
        std::string text;
        std::string want;
    };
    const std::vector<bad_case> cases = {
        {"too few fields", "# c\nalice:admin\n", "/etc/web-users:2: not NAME:ROLE:DOMAINS:HASH (2 fields)"},
        {"no colon", "alice\n", ":1: not NAME:ROLE:DOMAINS:HASH (1 field)"},
        {"empty name", ":admin::" + fake_hash + "\n", ":1: user name '': must be 1 to 64"},
        {"name with a blank", "al ice:admin::" + fake_hash + "\n", ":1: user name 'al ice'"},
        {"name too long", std::string(65, 'n') + ":admin::" + fake_hash + "\n", ":1: user name"},
        {"unknown role", ok + "bob:root::" + fake_hash + "\n", ":2: user bob: role 'root' is not admin or reviewer"},
        {"bad domain", "bob:reviewer:exa mple.com:" + fake_hash + "\n", ":1: user bob: 'exa mple.com' is not a domain"},
        {"empty domain in the list", "bob:reviewer:a.com,,b.com:" + fake_hash + "\n", ":1: user bob: '' is not a domain"},
        {"trailing dot", "bob:reviewer:example.com.:" + fake_hash + "\n", "'example.com.' is not a domain"},
        {"label too long", "bob:reviewer:" + std::string(64, 'a') + ".com:" + fake_hash + "\n", "is not a domain"},
        {"hyphen at a label's end", "bob:reviewer:a-.com:" + fake_hash + "\n", "'a-.com' is not a domain"},
        {"duplicate domain", "bob:reviewer:a.com,A.com:" + fake_hash + "\n", ":1: user bob: domain 'a.com' is listed twice"},
        {"admin with domains", "alice:admin:a.com:" + fake_hash + "\n", ":1: user alice: an admin sees every domain"},
        {"reviewer without", "bob:reviewer::" + fake_hash + "\n", ":1: user bob: a reviewer needs at least one domain"},
        {"not an argon2id hash", "bob:reviewer:a.com:$2y$10$abcdefghijk\n", ":1: user bob: the password hash is not"},
        {"empty hash", "bob:reviewer:a.com:\n", ":1: user bob: the password hash is not"},
        {"clear-text password", "bob:reviewer:a.com:secret\n", ":1: user bob: the password hash is not"},
        {"colon in the hash", "bob:reviewer:a.com:" + fake_hash + ":x\n", ":1: user bob: the password hash is not"},
        {"duplicate user", ok + "# c\n" + ok, ":3: user alice is listed twice"},
        {"CR line end", ok + "bob:admin::" + fake_hash + "\r\n", ":2: control character in the line"},
        {"NUL", ok + std::string("a\0b", 3) + "\n", ":2: control character"},
        {"line too long", ok + std::string(web::max_line_bytes + 1, '#') + "\n", ":2: line longer than 8192 bytes"},
    };
    for (const auto& c : cases) {
        INFO(c.label);
        auto what = parse_error(c.text);
        CHECK_THAT(what, Catch::Contains(c.want));
        CHECK_THAT(what, Catch::StartsWith("/etc/web-users:"));
    }
    // A line of exactly the limit is read (and found to be a comment).
    CHECK(web::parse_users(std::string(web::max_line_bytes, '#') + "\n", "f").empty());
}

TEST_CASE("users file: the caps on domains and users", "[web][users]")
{
    std::string domains;
    for (std::size_t i = 0; i < web::max_domains_per_user; ++i)
        domains += (i ? ",d" : "d") + std::to_string(i) + ".example";
    CHECK(web::parse_users("bob:reviewer:" + domains + ":" + fake_hash + "\n", "f").front().domains.size() ==
          web::max_domains_per_user);
    CHECK_THAT(parse_error("bob:reviewer:" + domains + ",one.more:" + fake_hash + "\n"),
               Catch::Contains(":1: user bob: more than 256 domains"));

    std::string many;
    for (std::size_t i = 0; i < web::max_users; ++i)
        many += "u" + std::to_string(i) + ":admin::" + fake_hash + "\n";
    CHECK(web::parse_users(many, "f").size() == web::max_users);
    CHECK_THAT(parse_error(many + "last:admin::" + fake_hash + "\n"), Catch::Contains(":1001: more than 1000 users"));
}

TEST_CASE("format_users refuses what parse_users would refuse", "[web][users]")
{
    CHECK_THROWS_WITH(web::format_users({reviewer("bob", {"Example.com"})}), Catch::Contains("not a lower-case"));
    CHECK_THROWS_WITH(web::format_users({reviewer("bob", {})}), Catch::Contains("needs at least one domain"));
    CHECK_THROWS_WITH(web::format_users({admin("a:b")}), Catch::Contains("(bad name)"));
    CHECK_THROWS_WITH(web::format_users({admin("alice"), admin("alice")}), Catch::Contains("listed twice"));
    auto clear = admin("alice");
    clear.hash = "secret";
    CHECK_THROWS_WITH(web::format_users({clear}), Catch::Contains("not an Argon2id hash"));
}

TEST_CASE("names, roles and domains", "[web][users]")
{
    CHECK(web::valid_user_name("a"));
    CHECK(web::valid_user_name(std::string(64, 'x')));
    CHECK_FALSE(web::valid_user_name(std::string(65, 'x')));
    CHECK_FALSE(web::valid_user_name(""));
    CHECK_FALSE(web::valid_user_name("a:b"));
    CHECK_FALSE(web::valid_user_name("a/b"));
    CHECK(web::parse_role("admin") == web::role::admin);
    CHECK(web::parse_role("reviewer") == web::role::reviewer);
    CHECK_FALSE(web::parse_role("Admin"));
    CHECK(web::to_string(web::role::reviewer) == "reviewer");
    CHECK(web::normal_domain("Mail.EXAMPLE.org") == "mail.example.org");
    CHECK(web::normal_domain("localhost") == "localhost");
    CHECK_FALSE(web::normal_domain(".example.org"));
    CHECK_FALSE(web::normal_domain("example..org"));
    CHECK_FALSE(web::normal_domain("-a.org"));
    CHECK_FALSE(web::normal_domain(std::string(254, 'a')));
    CHECK_FALSE(web::normal_domain("bücher.de"));
}

TEST_CASE("hash_password and verify_password", "[web][users][hash]")
{
    auto h = web::hash_password("correct horse");
    CHECK(h.starts_with("$argon2id$"));
    CHECK(h.find("correct") == std::string::npos);
    CHECK(web::verify_password(h, "correct horse"));
    CHECK_FALSE(web::verify_password(h, "correct hors"));
    CHECK_FALSE(web::verify_password(h, ""));
    // Salted: the same password hashes differently each time.
    CHECK(web::hash_password("correct horse") != h);
    // A hash is accepted by the file codec.
    CHECK(web::parse_users("a:admin::" + h + "\n", "f").front().hash == h);

    // Malformed hashes never match and never crash.
    CHECK_FALSE(web::verify_password("", "x"));
    CHECK_FALSE(web::verify_password("correct horse", "correct horse"));
    CHECK_FALSE(web::verify_password(h.substr(0, h.size() - 5), "correct horse"));
    CHECK_FALSE(web::verify_password(fake_hash, "x"));
    CHECK_FALSE(web::verify_password(h + std::string(200, 'A'), "correct horse"));
    // Too long a password never gets hashed.
    CHECK_FALSE(web::verify_password(h, std::string(web::max_password_bytes + 1, 'p')));

    CHECK_THROWS_WITH(web::hash_password(""), Catch::Contains("empty"));
    CHECK_THROWS_WITH(web::hash_password(std::string(web::max_password_bytes + 1, 'p')),
                      Catch::Contains("longer than 1024 bytes"));
    CHECK(web::verify_password(web::hash_password(std::string(web::max_password_bytes, 'p')),
                               std::string(web::max_password_bytes, 'p')));
}

TEST_CASE("find_user is exact", "[web][users]")
{
    std::vector<web::web_user> users = {admin("alice"), reviewer("bob", {"a.com"})};
    REQUIRE(web::find_user(users, "bob") != nullptr);
    CHECK(web::find_user(users, "bob")->r == web::role::reviewer);
    CHECK(web::find_user(users, "Bob") == nullptr);
    CHECK(web::find_user(users, "") == nullptr);
}

TEST_CASE("may_see: admins everything, reviewers only entries wholly in their domains", "[web][users]")
{
    auto r = reviewer("bob", {"example.com", "example.org"});
    CHECK(web::may_see(admin("a"), {}));
    CHECK(web::may_see(admin("a"), {"x@elsewhere.net"}));
    CHECK(web::may_see(r, {"a@example.com"}));
    CHECK(web::may_see(r, {"a@EXAMPLE.Com", "b@example.org"}));
    CHECK(web::may_see(r, {"\"odd@local\"@example.com"}));
    CHECK(web::may_see(r, {"a@example.com."}));
    CHECK_FALSE(web::may_see(r, {"a@example.com", "b@elsewhere.net"}));
    CHECK_FALSE(web::may_see(r, {"a@sub.example.com"}));
    CHECK_FALSE(web::may_see(r, {"a@example.com.evil"}));
    CHECK_FALSE(web::may_see(r, {"example.com"}));
    CHECK_FALSE(web::may_see(r, {"a@"}));
    CHECK_FALSE(web::may_see(r, {"example.com@evil.net"}));
    CHECK_FALSE(web::may_see(r, {}));
}

TEST_CASE("save_users and load_users: atomic, mode 0640, group kept", "[web][users][file]")
{
    temp_dir dir;
    const auto path = dir.file("web-users");
    try {
        web::load_users(path);
        FAIL("a missing file loaded");
    } catch (const web::users_error& e) {
        CHECK(e.why() == web::users_error::kind::missing);
        CHECK_THAT(e.what(), Catch::Contains("mxwarden web-user add NAME --role admin"));
    }

    std::vector<web::web_user> users = {admin("alice"), reviewer("bob", {"example.com"})};
    ::umask(022);
    web::save_users(path, users);
    CHECK(web::load_users(path) == users);
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0640);
    struct stat dst {};
    REQUIRE(::stat(dir.path().c_str(), &dst) == 0);
    CHECK(st.st_gid == dst.st_gid);

    // The existing file's group stays (root may give it any group).
    if (::geteuid() == 0) {
        REQUIRE(::chown(path.c_str(), static_cast<uid_t>(-1), 4) == 0);
        users.push_back(reviewer("carol", {"example.org"}));
        web::save_users(path, users);
        REQUIRE(::stat(path.c_str(), &st) == 0);
        CHECK(st.st_gid == 4);
        CHECK((st.st_mode & 07777) == 0640);
    }
    CHECK(web::load_users(path) == users);
    // No temporary file is left behind.
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path()))
        ++files;
    CHECK(files == 1);

    // A file that will not parse: the error names it and the line.
    std::ofstream(dir.file("broken")) << "alice:admin::" << fake_hash << "\nbob:boss::" << fake_hash << "\n";
    CHECK_THROWS_WITH(web::load_users(dir.file("broken")), Catch::Contains(dir.file("broken") + ":2: user bob"));

    // Invalid users are never written; the old file stays.
    CHECK_THROWS(web::save_users(path, {reviewer("dave", {})}));
    CHECK(web::load_users(path) == users);

    // No directory to put it in: nothing can be created.
    try {
        web::save_users(dir.file("no-such-dir/web-users"), users);
        FAIL("saved into a missing directory");
    } catch (const web::users_error& e) {
        CHECK(e.why() == web::users_error::kind::cant_create);
    }
}

TEST_CASE("load_users refuses an oversized file before parsing it", "[web][users][file]")
{
    temp_dir dir;
    {
        std::ofstream out(dir.file("huge"));
        std::string comment(1000, '#');
        for (std::size_t n = 0; n <= web::max_file_bytes; n += comment.size() + 1)
            out << comment << "\n";
    }
    CHECK_THROWS_WITH(web::load_users(dir.file("huge")), Catch::Contains("larger than"));
}
