// Tests for web/session: session ids and CSRF tokens, idle and absolute
// expiry, eviction when full, closing a user's sessions, and the login
// limiter's window and key cap. Every time is given, so nothing waits.
#include "web/session.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <string>

namespace web = mxw::web;

namespace {

bool hex64(const std::string& s)
{
    return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

TEST_CASE("sessions: random 256-bit ids and tokens, found until closed", "[web][session]")
{
    web::session_table t(1800, 43200, 100);
    std::set<std::string> seen;
    for (int i = 0; i < 20; ++i) {
        const auto& s = t.open("alice", 1000);
        CHECK(hex64(s.id));
        CHECK(hex64(s.csrf));
        CHECK(s.id != s.csrf);
        CHECK(seen.insert(s.id).second);
        CHECK(seen.insert(s.csrf).second);
        CHECK(s.user == "alice");
        CHECK(s.created == 1000);
        CHECK(s.last_seen == 1000);
    }
    CHECK(t.size() == 20);
    const std::string id = t.open("bob", 1000).id;
    const auto* s = t.find(id, 1001);
    REQUIRE(s != nullptr);
    CHECK(s->user == "bob");
    CHECK(s->last_seen == 1001);
    CHECK(t.find("", 1001) == nullptr);
    CHECK(t.find(id.substr(1), 1001) == nullptr);
    CHECK(t.find(std::string(100000, 'a'), 1001) == nullptr);
    t.close(id);
    CHECK(t.find(id, 1001) == nullptr);
    t.close(id);  // twice is harmless
    CHECK(t.size() == 20);
}

TEST_CASE("sessions: idle expiry is pushed back by use, absolute expiry is not", "[web][session]")
{
    web::session_table t(100, 1000, 10);
    const std::string id = t.open("alice", 0).id;
    // Used every 99 s: never idle for 100.
    for (std::int64_t now = 99; now < 1000; now += 99)
        REQUIRE(t.find(id, now) != nullptr);
    // 1000 s after it was opened it ends however busy it was.
    CHECK(t.find(id, 1000) == nullptr);
    CHECK(t.size() == 0);

    const std::string idle = t.open("bob", 5000).id;
    CHECK(t.find(idle, 5099) != nullptr);
    CHECK(t.find(idle, 5199) == nullptr);  // 100 s after its last use
    CHECK(t.find(idle, 5100) == nullptr);  // and it stays gone

    // A clock stepped back neither revives nor ages a session.
    const std::string back = t.open("carol", 7000).id;
    REQUIRE(t.find(back, 7050) != nullptr);
    const auto* s = t.find(back, 6000);
    REQUIRE(s != nullptr);
    CHECK(s->last_seen == 7050);
    CHECK(t.find(back, 7149) != nullptr);
    CHECK(t.find(back, 7249) == nullptr);
}

TEST_CASE("sessions: a full table drops the expired, then the one unused longest", "[web][session]")
{
    web::session_table t(100, 10000, 3);
    const std::string a = t.open("a", 0).id;
    const std::string b = t.open("b", 10).id;
    const std::string c = t.open("c", 20).id;
    REQUIRE(t.find(a, 30) != nullptr);  // a is now the most recently used
    const std::string d = t.open("d", 40).id;
    CHECK(t.size() == 3);
    CHECK(t.find(b, 41) == nullptr);  // unused longest: evicted
    CHECK(t.find(a, 41) != nullptr);
    CHECK(t.find(c, 41) != nullptr);
    CHECK(t.find(d, 41) != nullptr);

    // At 200 all three are idle past 100: opening one clears them all.
    const std::string e = t.open("e", 200).id;
    CHECK(t.size() == 1);
    CHECK(t.find(e, 201) != nullptr);

    web::session_table one(100, 1000, 0);  // at least one session fits
    const std::string x = one.open("x", 0).id;
    CHECK(one.find(x, 1) != nullptr);
    const std::string y = one.open("y", 2).id;
    CHECK(one.size() == 1);
    CHECK(one.find(x, 3) == nullptr);
    CHECK(one.find(y, 3) != nullptr);
}

TEST_CASE("sessions: close_user ends every session of that user only", "[web][session]")
{
    web::session_table t(100, 1000, 10);
    const std::string a1 = t.open("alice", 0).id;
    const std::string a2 = t.open("alice", 1).id;
    const std::string b = t.open("bob", 2).id;
    t.close_user("alice");
    CHECK(t.size() == 1);
    CHECK(t.find(a1, 3) == nullptr);
    CHECK(t.find(a2, 3) == nullptr);
    CHECK(t.find(b, 3) != nullptr);
    t.close_user("nobody");
    CHECK(t.size() == 1);
}

TEST_CASE("csrf_ok compares the whole token", "[web][session]")
{
    web::session_table t(100, 1000, 10);
    const auto& s = t.open("alice", 0);
    CHECK(web::csrf_ok(s, s.csrf));
    CHECK_FALSE(web::csrf_ok(s, ""));
    CHECK_FALSE(web::csrf_ok(s, s.csrf.substr(0, 63)));
    CHECK_FALSE(web::csrf_ok(s, s.csrf + "0"));
    std::string flipped = s.csrf;
    flipped.back() = flipped.back() == '0' ? '1' : '0';
    CHECK_FALSE(web::csrf_ok(s, flipped));
    CHECK_FALSE(web::csrf_ok(s, s.id));
    web::session none;
    CHECK_FALSE(web::csrf_ok(none, ""));
}

TEST_CASE("login_limiter: max failures within the window, then free again", "[web][session][limiter]")
{
    web::login_limiter l(3, 60, 100);
    CHECK(l.allowed("ip:192.0.2.1", 0));
    l.failed("ip:192.0.2.1", 0);
    l.failed("ip:192.0.2.1", 10);
    CHECK(l.allowed("ip:192.0.2.1", 11));
    l.failed("ip:192.0.2.1", 20);
    CHECK_FALSE(l.allowed("ip:192.0.2.1", 21));
    CHECK_FALSE(l.allowed("ip:192.0.2.1", 59));
    CHECK(l.allowed("ip:192.0.2.2", 21));  // other keys are not affected
    CHECK(l.allowed("ip:192.0.2.1", 60));  // 60 s after the first failure

    // A failure after the window starts a new one.
    l.failed("ip:192.0.2.1", 61);
    l.failed("ip:192.0.2.1", 62);
    CHECK(l.allowed("ip:192.0.2.1", 63));
    l.failed("ip:192.0.2.1", 63);
    CHECK_FALSE(l.allowed("ip:192.0.2.1", 64));

    // A success forgets the failures.
    l.succeeded("ip:192.0.2.1");
    CHECK(l.allowed("ip:192.0.2.1", 64));
    l.succeeded("never-seen");
}

TEST_CASE("login_limiter: memory is capped; the key that failed longest ago goes", "[web][session][limiter]")
{
    web::login_limiter l(1, 1000, 3);
    l.failed("user:a", 1);
    l.failed("user:b", 2);
    l.failed("user:c", 3);
    l.failed("user:a", 4);  // a failed most recently now
    l.failed("user:d", 5);  // full: b goes
    CHECK(l.size() == 3);
    CHECK(l.allowed("user:b", 6));
    CHECK_FALSE(l.allowed("user:a", 6));
    CHECK_FALSE(l.allowed("user:c", 6));
    CHECK_FALSE(l.allowed("user:d", 6));

    // Keys are kept to their first max_key_bytes: a huge key costs no more.
    const std::string long_key(web::login_limiter::max_key_bytes, 'k');
    l.failed(long_key + "tail-one", 7);
    CHECK_FALSE(l.allowed(long_key + "tail-two", 8));
    CHECK_FALSE(l.allowed(long_key, 8));
    CHECK(l.size() == 3);
}
