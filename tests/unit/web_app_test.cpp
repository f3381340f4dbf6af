// Tests for web/app: the pages of mxwarden-web driven through
// app::handle(), with a real SQLite quarantine in a temporary directory
// filled by ingest, real users (Argon2id hashes), sessions and limiter, and
// fakes for the daemon's health report and the release.
#include "store/open_store.hpp"
#include "web/app.hpp"
#include "web/html.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace fs = std::filesystem;
using namespace mxw;
using namespace mxw::web;

namespace {

class temp_dir {
public:
    temp_dir()
    {
        std::string tmpl = (fs::temp_directory_path() / "mxw-web-app-test-XXXXXX").string();
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

// Argon2id is slow on purpose: hash each password once for the whole run.
const std::string& hash_of(const std::string& password)
{
    static std::map<std::string, std::string> hashes;
    auto it = hashes.find(password);
    if (it == hashes.end())
        it = hashes.emplace(password, hash_password(password)).first;
    return it->second;
}

std::optional<std::string> header(const response& r, std::string_view name)
{
    for (const auto& [k, v] : r.headers)
        if (k == name)
            return v;
    return std::nullopt;
}

bool has(const std::string& body, std::string_view what) { return body.find(what) != std::string::npos; }

struct fixture {
    temp_dir dir;
    store::store_location loc{dir.file("q.db"), "", ""};
    std::vector<web_user> users{
        {"admin", role::admin, {}, hash_of("admin-pw")},
        {"alice", role::reviewer, {"example.org"}, hash_of("alice-pw")},
    };
    session_table sessions{3600, 8 * 3600, 100};
    login_limiter limiter{5, 300, 1000};
    std::optional<proto::health_report> health;
    std::vector<std::pair<std::int64_t, std::string>> released;  // what the fake release sent, and by whom
    std::int64_t now = 1'800'000'000;
    app_options opt;
    std::unique_ptr<app> a;

    explicit fixture(app_options o = {}) : opt(std::move(o)) { make_app(); }

    void make_app()
    {
        app_deps deps{
            [this] { return store::open_quarantine(loc, store::open_mode::existing); },
            [this] { return users; },
            [this] { return health; },
            [this](std::int64_t id, const std::string& by) { return fake_release(id, by); },
        };
        a = std::make_unique<app>(std::move(deps), sessions, limiter, opt);
    }

    // What the CLI's release does, minus sending: claim, then mark released.
    release_outcome fake_release(std::int64_t id, const std::string& by)
    {
        auto q = store::open_quarantine(loc, store::open_mode::existing);
        auto c = q->claim_release(id, {4242, now}, [](const store::release_claim&) { return false; });
        if (c.what != store::claim_result::kind::claimed)
            return {false, "not held"};
        auto d = q->find(id);
        q->mark_released(id, 4242, d->summary.attempts, now, "by " + by);
        released.emplace_back(id, by);
        return {true, "released"};
    }

    std::int64_t ingest(std::string sender, std::vector<std::string> rcpts, std::string subject,
                        std::string body = "hello\n", std::string reason = "dns-failure")
    {
        auto q = store::open_quarantine(loc, store::open_mode::create);
        store::new_entry e;
        e.reason = std::move(reason);
        e.queue_id = "Q" + std::to_string(now);
        e.sender = sender;
        e.recipients = std::move(rcpts);
        e.message = "From: " + sender + "\r\nSubject: " + subject + "\r\nMessage-ID: <" + std::to_string(now) +
                    "@x>\r\n\r\n" + body;
        e.evidence = R"({"dns":[{"server":"192.0.2.53","transport":"udp","rcode":"SERVFAIL"}]})";
        ++now;
        return q->ingest(e, now).id;
    }

    response get(const std::string& path, const std::string& query = "", const std::string& cookie = "")
    {
        request r;
        r.method = "GET";
        r.path = path;
        r.query = query;
        r.cookie = cookie;
        r.host = "127.0.0.1:10044";
        r.peer = "192.0.2.1";
        return a->handle(r, now);
    }

    response post(const std::string& path, const std::string& body, const std::string& cookie = "",
                  const std::string& origin = "http://127.0.0.1:10044", const std::string& peer = "192.0.2.1")
    {
        request r;
        r.method = "POST";
        r.path = path;
        r.body = body;
        r.content_type = "application/x-www-form-urlencoded";
        r.cookie = cookie;
        r.origin = origin;
        r.host = "127.0.0.1:10044";
        r.peer = peer;
        return a->handle(r, now);
    }

    /// The run of lower-case hex digits right after the first `marker` in
    /// `text`; empty when there is none. (No <regex>: with ASan, g++ 12
    /// warns inside std::regex, and warnings are errors in tests/run.)
    static std::string hex_after(const std::string& text, std::string_view marker)
    {
        auto at = text.find(marker);
        if (at == std::string::npos)
            return {};
        auto from = at + marker.size();
        auto to = text.find_first_not_of("0123456789abcdef", from);
        return text.substr(from, to == std::string::npos ? std::string::npos : to - from);
    }

    /// Logs in; the cookie header value to send and the session's CSRF token.
    struct login_state {
        std::string cookie;
        std::string csrf;
    };
    login_state login(const std::string& name, const std::string& password, const std::string& old_cookie = "")
    {
        auto r = post("/login", "user=" + name + "&password=" + password, old_cookie);
        REQUIRE(r.status == 303);
        auto set = header(r, "Set-Cookie");
        REQUIRE(set);
        login_state s{"mxw_session=" + hex_after(*set, "mxw_session="), ""};
        REQUIRE(s.cookie.size() > std::string_view("mxw_session=").size());
        REQUIRE(set->find(s.cookie + ";") == 0);
        auto page = get("/quarantine", "", s.cookie);
        REQUIRE(page.status == 200);
        s.csrf = hex_after(page.body, "name=\"csrf\" value=\"");
        REQUIRE_FALSE(s.csrf.empty());
        return s;
    }
};

}  // namespace

TEST_CASE("web app: log in, cookie flags, log out", "[web][app]")
{
    fixture f;
    auto r = f.get("/");
    CHECK(r.status == 303);
    CHECK(header(r, "Location") == "/login");
    r = f.get("/quarantine");
    CHECK(header(r, "Location") == "/login");

    r = f.get("/login");
    CHECK(r.status == 200);
    CHECK(has(r.body, "id=\"login-user\" name=\"user\""));
    CHECK(has(r.body, "id=\"login-password\" name=\"password\""));
    CHECK(has(r.body, "id=\"login-submit\""));

    r = f.post("/login", "user=admin&password=admin-pw");
    REQUIRE(r.status == 303);
    CHECK(header(r, "Location") == "/");
    auto cookie = header(r, "Set-Cookie");
    REQUIRE(cookie);
    CHECK(has(*cookie, "; Path=/; HttpOnly; SameSite=Strict; Max-Age=28800"));
    CHECK_FALSE(has(*cookie, "Secure"));

    auto s = f.login("admin", "admin-pw");
    r = f.get("/", "", s.cookie);
    CHECK(header(r, "Location") == "/quarantine");
    r = f.get("/quarantine", "", s.cookie);
    CHECK(has(r.body, "<span id=\"user\" class=\"user\">admin (admin)</span>"));

    r = f.post("/logout", "csrf=" + s.csrf, s.cookie);
    CHECK(r.status == 303);
    CHECK(header(r, "Location") == "/login");
    CHECK(has(header(r, "Set-Cookie").value_or(""), "mxw_session=; "));
    CHECK(has(header(r, "Set-Cookie").value_or(""), "Max-Age=0"));
    r = f.get("/quarantine", "", s.cookie);
    CHECK(header(r, "Location") == "/login");
}

TEST_CASE("web app: secure cookies when asked", "[web][app]")
{
    app_options o;
    o.secure_cookies = true;
    o.session_max_seconds = 600;
    fixture f(o);
    auto r = f.post("/login", "user=admin&password=admin-pw");
    CHECK(has(header(r, "Set-Cookie").value_or(""), "Max-Age=600; Secure"));
}

TEST_CASE("web app: a wrong password or user says only that; a login starts a new session", "[web][app]")
{
    fixture f;
    for (auto body : {"user=admin&password=nope", "user=nobody&password=admin-pw", "user=admin"}) {
        auto r = f.post("/login", body);
        CHECK(r.status == 403);
        CHECK(has(r.body, "<p class=\"error\" id=\"login-error\">wrong user name or password</p>"));
        CHECK_FALSE(header(r, "Set-Cookie"));
    }
    auto first = f.login("admin", "admin-pw");
    auto second = f.login("admin", "admin-pw", first.cookie);
    CHECK(first.cookie != second.cookie);
    // The session the browser held before logging in again is gone.
    CHECK(f.get("/quarantine", "", first.cookie).status == 303);
    CHECK(f.get("/quarantine", "", second.cookie).status == 200);
}

TEST_CASE("web app: failed logins are limited by address and by user name", "[web][app]")
{
    fixture f;
    for (int i = 0; i < 5; ++i)
        CHECK(f.post("/login", "user=admin&password=wrong").status == 403);
    auto r = f.post("/login", "user=admin&password=admin-pw");
    CHECK(r.status == 429);
    CHECK(header(r, "Retry-After") == "300");
    // Another address, same user: still limited by the name.
    CHECK(f.post("/login", "user=admin&password=admin-pw", "", "", "192.0.2.99").status == 429);
    // Another user from another address goes in.
    CHECK(f.post("/login", "user=alice&password=alice-pw", "", "", "192.0.2.99").status == 303);
    f.now += 301;
    CHECK(f.post("/login", "user=admin&password=admin-pw").status == 303);
}

TEST_CASE("web app: every POST needs the session's CSRF token and our own origin", "[web][app]")
{
    fixture f;
    auto id = f.ingest("a@example.com", {"b@example.org"}, "hi");
    auto s = f.login("admin", "admin-pw");
    const std::string ids = std::to_string(id);

    auto r = f.post("/quarantine/confirm", "action=release&id=" + ids, s.cookie);
    CHECK(r.status == 403);
    CHECK(has(r.body, "CSRF"));
    r = f.post("/quarantine/action", "action=delete&id=" + ids + "&csrf=00" + s.csrf.substr(2), s.cookie);
    CHECK(r.status == 403);
    // Without a session at all.
    CHECK(f.post("/quarantine/action", "action=delete&id=" + ids + "&csrf=" + s.csrf).status == 403);
    // A token from an earlier session.
    auto again = f.login("admin", "admin-pw");
    r = f.post("/quarantine/action", "action=delete&id=" + ids + "&csrf=" + s.csrf, again.cookie);
    CHECK(r.status == 403);
    // Another site's form, with a valid token.
    r = f.post("/quarantine/action", "action=delete&id=" + ids + "&csrf=" + again.csrf, again.cookie,
               "https://evil.example");
    CHECK(r.status == 403);
    CHECK(has(r.body, "another site"));
    CHECK(f.post("/login", "user=admin&password=admin-pw", "", "null").status == 403);

    auto q = store::open_quarantine(f.loc, store::open_mode::existing);
    CHECK(q->find(id)->summary.state == store::entry_state::held);

    // The same with everything right: deleted, by whom in the history.
    r = f.post("/quarantine/action", "action=delete&id=" + ids + "&csrf=" + again.csrf, again.cookie);
    CHECK(r.status == 200);
    CHECK(has(r.body, "<p class=\"result ok\" data-id=\"" + ids + "\">"));
    auto d = q->find(id);
    CHECK(d->summary.state == store::entry_state::deleted);
    bool by_admin = false;
    for (const auto& h : d->history)
        by_admin = by_admin || (h.event == "deleted" && has(h.detail, "web:admin"));
    CHECK(by_admin);
    // No Origin header (an older browser): the token is enough.
    auto id2 = f.ingest("a@example.com", {"b@example.org"}, "hi2");
    r = f.post("/quarantine/action", "action=delete&id=" + std::to_string(id2) + "&csrf=" + again.csrf, again.cookie,
               "");
    CHECK(r.status == 200);
}

TEST_CASE("web app: list, filters, search and paging", "[web][app]")
{
    app_options o;
    o.page_size = 2;
    fixture f(o);
    auto a1 = f.ingest("x@sender.test", {"u1@example.org"}, "invoice march");
    auto a2 = f.ingest("y@sender.test", {"u2@example.net", "u3@example.org"}, "hello there", "b", "all-dead");
    auto a3 = f.ingest("X@Sender.test", {"u4@example.org"}, "another invoice");
    auto s = f.login("admin", "admin-pw");

    auto r = f.get("/quarantine", "", s.cookie);
    REQUIRE(r.status == 200);
    CHECK(has(r.body, "<p id=\"total\">3 entries match.</p>"));
    CHECK(has(r.body, "<tr class=\"entry\" data-id=\"" + std::to_string(a3) + "\">"));
    CHECK(has(r.body, "<tr class=\"entry\" data-id=\"" + std::to_string(a2) + "\">"));
    CHECK_FALSE(has(r.body, "data-id=\"" + std::to_string(a1) + "\""));
    CHECK(has(r.body, "u2@example.net (+1)"));
    CHECK(has(r.body, "<form id=\"filter\""));
    CHECK(has(r.body, "<form id=\"bulk\""));
    std::string older = "href=\"/quarantine?state=held&amp;before=" + std::to_string(a2) + "\"";
    CHECK(has(r.body, "<a id=\"older\" " + older));

    r = f.get("/quarantine", "state=held&before=" + std::to_string(a2), s.cookie);
    CHECK(has(r.body, "data-id=\"" + std::to_string(a1) + "\""));
    CHECK_FALSE(has(r.body, "data-id=\"" + std::to_string(a2) + "\""));
    CHECK_FALSE(has(r.body, "id=\"older\""));

    r = f.get("/quarantine", "q=INVOICE", s.cookie);
    CHECK(has(r.body, "<p id=\"total\">2 entries match.</p>"));
    r = f.get("/quarantine", "sender=x%40sender.test", s.cookie);
    CHECK(has(r.body, "<p id=\"total\">2 entries match.</p>"));
    r = f.get("/quarantine", "domain=example.net", s.cookie);
    CHECK(has(r.body, "<p id=\"total\">1 entry match.</p>"));
    r = f.get("/quarantine", "reason=all-dead", s.cookie);
    CHECK(has(r.body, "data-id=\"" + std::to_string(a2) + "\""));
    CHECK(has(r.body, "<p id=\"total\">1 entry match.</p>"));
    r = f.get("/quarantine", "state=released", s.cookie);
    CHECK(has(r.body, "<p id=\"total\">0 entries match.</p>"));
    CHECK(has(r.body, "id=\"empty\""));
    r = f.get("/quarantine", "since=1h", s.cookie);
    CHECK(has(r.body, "<p id=\"total\">3 entries match.</p>"));
    r = f.get("/quarantine", "since=2030-01-01", s.cookie);
    CHECK(has(r.body, "<p id=\"total\">0 entries match.</p>"));
    // The filter is kept in the form.
    r = f.get("/quarantine", "q=a%22b", s.cookie);
    CHECK(has(r.body, "name=\"q\" value=\"a&quot;b\""));

    struct bad {
        const char* query;
        const char* says;
    };
    for (auto b : {bad{"since=yesterday", "since: &#39;yesterday&#39; is neither"},
                   bad{"state=lost", "state: &#39;lost&#39; is not one of"}, bad{"before=-3", "before:"},
                   bad{"before=abc", "before:"}, bad{"q=%zz", "malformed"}}) {
        INFO(b.query);
        r = f.get("/quarantine", b.query, s.cookie);
        CHECK(r.status == 400);
        CHECK(has(r.body, b.says));
    }
    r = f.get("/quarantine", "q=" + std::string(max_filter_value_bytes + 1, 'a'), s.cookie);
    CHECK(r.status == 400);
}

TEST_CASE("web app: an entry, its raw message, release and delete with a confirmation", "[web][app]")
{
    fixture f;
    auto id = f.ingest("a@example.com", {"b@example.org", "c@example.org"}, "quarterly",
                       "line one\r\nline two\r\n");
    const std::string ids = std::to_string(id);
    auto s = f.login("admin", "admin-pw");

    auto r = f.get("/quarantine/" + ids, "", s.cookie);
    REQUIRE(r.status == 200);
    CHECK(has(r.body, "<dl id=\"envelope\""));
    CHECK(has(r.body, "b@example.org<br>c@example.org"));
    CHECK(has(r.body, "<pre id=\"headers\">From: a@example.com\nSubject: quarterly\n"));
    CHECK(has(r.body, "<pre id=\"body\">line one\nline two\n</pre>"));
    CHECK(has(r.body, "<pre id=\"evidence\">"));
    CHECK(has(r.body, "SERVFAIL"));
    CHECK(has(r.body, "<table id=\"history\">"));
    CHECK(has(r.body, "<button id=\"release\""));
    CHECK(has(r.body, "<button id=\"delete\""));
    CHECK(has(r.body, "<a id=\"download\" href=\"/quarantine/" + ids + "/raw\""));

    r = f.get("/quarantine/" + ids + "/raw", "", s.cookie);
    CHECK(r.status == 200);
    CHECK(r.content_type == "application/octet-stream");
    CHECK(header(r, "Content-Disposition") == "attachment; filename=\"mxwarden-" + ids + ".eml\"");
    CHECK(r.body.starts_with("From: a@example.com\r\n"));

    r = f.post("/quarantine/confirm", "action=release&id=" + ids + "&csrf=" + s.csrf, s.cookie);
    REQUIRE(r.status == 200);
    CHECK(has(r.body, "<p id=\"confirm-summary\">Release 1 entry?"));
    CHECK(has(r.body, "<form id=\"confirm-form\" method=\"post\" action=\"/quarantine/action\">"));
    CHECK(has(r.body, "<input type=\"hidden\" name=\"id\" value=\"" + ids + "\">"));
    CHECK(f.released.empty());  // confirming does nothing yet

    r = f.post("/quarantine/action", "action=release&id=" + ids + "&csrf=" + s.csrf, s.cookie);
    REQUIRE(r.status == 200);
    CHECK(has(r.body, "<p class=\"result ok\" data-id=\"" + ids + "\">"));
    REQUIRE(f.released.size() == 1);
    CHECK(f.released[0] == std::pair<std::int64_t, std::string>{id, "web:admin"});
    // A second release is refused, line by line.
    r = f.post("/quarantine/action", "action=release&id=" + ids + "&csrf=" + s.csrf, s.cookie);
    CHECK(has(r.body, "<p class=\"result failed\" data-id=\"" + ids + "\">"));
    CHECK(f.released.size() == 1);
    r = f.get("/quarantine/" + ids, "", s.cookie);
    CHECK(has(r.body, "web:admin"));
    CHECK_FALSE(has(r.body, "id=\"release\""));

    r = f.post("/quarantine/action", "action=delete&id=" + ids + "&csrf=" + s.csrf, s.cookie);
    CHECK(has(r.body, "<p class=\"result ok\" data-id=\"" + ids + "\">"));
    r = f.get("/quarantine/" + ids, "", s.cookie);
    CHECK(has(r.body, "id=\"no-message\""));
    CHECK(f.get("/quarantine/" + ids + "/raw", "", s.cookie).status == 404);

    CHECK(f.post("/quarantine/action", "action=explode&id=" + ids + "&csrf=" + s.csrf, s.cookie).status == 400);
    CHECK(f.post("/quarantine/confirm", "action=release&csrf=" + s.csrf, s.cookie).status == 400);
    CHECK(f.post("/quarantine/confirm", "action=release&id=x1&csrf=" + s.csrf, s.cookie).status == 400);
    CHECK(f.post("/quarantine/confirm", "action=release&id=99999&csrf=" + s.csrf, s.cookie).status == 404);
}

TEST_CASE("web app: bulk release of everything matching a filter", "[web][app]")
{
    fixture f;
    auto m1 = f.ingest("a@example.com", {"x@example.org"}, "bulk one");
    auto m2 = f.ingest("a@example.com", {"y@example.org"}, "bulk two");
    auto other = f.ingest("a@example.com", {"z@example.org"}, "keep me");
    auto s = f.login("admin", "admin-pw");
    auto r = f.post("/quarantine/confirm", "action=release&all=1&state=held&q=bulk&csrf=" + s.csrf, s.cookie);
    REQUIRE(r.status == 200);
    CHECK(has(r.body, "Release 2 entries matching the filter?"));
    CHECK(has(r.body, "<input type=\"hidden\" name=\"all\" value=\"1\">"));
    CHECK(has(r.body, "<input type=\"hidden\" name=\"q\" value=\"bulk\">"));
    r = f.post("/quarantine/action", "action=release&all=1&state=held&q=bulk&csrf=" + s.csrf, s.cookie);
    CHECK(has(r.body, "<p class=\"result ok\" data-id=\"" + std::to_string(m1) + "\">"));
    CHECK(has(r.body, "<p class=\"result ok\" data-id=\"" + std::to_string(m2) + "\">"));
    CHECK_FALSE(has(r.body, "data-id=\"" + std::to_string(other) + "\""));
    CHECK(f.released.size() == 2);
}

TEST_CASE("web app: a reviewer sees and acts on their own domains only", "[web][app]")
{
    fixture f;
    auto mine = f.ingest("a@example.com", {"u@example.org", "v@EXAMPLE.org"}, "for alice");
    auto theirs = f.ingest("a@example.com", {"u@example.net"}, "for someone else");
    auto mixed = f.ingest("a@example.com", {"u@example.org", "w@example.net"}, "mixed");
    auto s = f.login("alice", "alice-pw");
    const auto m = std::to_string(mine), t = std::to_string(theirs), x = std::to_string(mixed);

    auto r = f.get("/quarantine", "", s.cookie);
    CHECK(has(r.body, "alice (reviewer)"));
    CHECK(has(r.body, "data-id=\"" + m + "\""));
    CHECK_FALSE(has(r.body, "data-id=\"" + t + "\""));
    CHECK_FALSE(has(r.body, "data-id=\"" + x + "\""));
    CHECK(has(r.body, "<p id=\"total\">1 entry match.</p>"));
    // A domain in the query does not widen the view.
    r = f.get("/quarantine", "domain=example.net", s.cookie);
    CHECK(has(r.body, "<p id=\"total\">0 entries match.</p>"));

    for (const auto& id : {t, x}) {
        INFO(id);
        r = f.get("/quarantine/" + id, "", s.cookie);
        CHECK(r.status == 404);
        CHECK_FALSE(has(r.body, "for someone else"));
        CHECK(f.get("/quarantine/" + id + "/raw", "", s.cookie).status == 404);
        CHECK(f.post("/quarantine/confirm", "action=release&id=" + id + "&csrf=" + s.csrf, s.cookie).status == 404);
        // Smuggled among an allowed id: nothing at all is done.
        CHECK(f.post("/quarantine/action", "action=delete&id=" + m + "&id=" + id + "&csrf=" + s.csrf, s.cookie).status ==
              404);
        CHECK(f.post("/quarantine/action", "action=release&id=" + id + "&csrf=" + s.csrf, s.cookie).status == 404);
    }
    auto q = store::open_quarantine(f.loc, store::open_mode::existing);
    for (auto id : {mine, theirs, mixed})
        CHECK(q->find(id)->summary.state == store::entry_state::held);
    CHECK(f.released.empty());

    // "All matching", even with a filter naming another domain, stays inside hers.
    auto r2 = f.post("/quarantine/action", "action=release&all=1&state=held&csrf=" + s.csrf, s.cookie);
    CHECK(has(r2.body, "data-id=\"" + m + "\""));
    CHECK_FALSE(has(r2.body, "data-id=\"" + t + "\""));
    REQUIRE(f.released.size() == 1);
    CHECK(f.released[0] == std::pair<std::int64_t, std::string>{mine, "web:alice"});
    CHECK(q->find(theirs)->summary.state == store::entry_state::held);
}

TEST_CASE("web app: a user removed from the users file is logged out", "[web][app]")
{
    fixture f;
    auto s = f.login("alice", "alice-pw");
    CHECK(f.get("/quarantine", "", s.cookie).status == 200);
    f.users.pop_back();
    CHECK(f.get("/quarantine", "", s.cookie).status == 303);
    CHECK(f.sessions.size() == 0);
}

TEST_CASE("web app: hostile mail is shown as inert text", "[web][app]")
{
    fixture f;
    const std::string evil = "<script>alert(1)</script><img src=http://x/>";
    auto id = f.ingest("\"<script>alert(1)</script>\"@example.com", {"u@example.org"}, evil,
                       "<html><body>" + evil + "<a href=\"javascript:x\">x</a>\xff\xfe</body></html>\r\n");
    auto s = f.login("admin", "admin-pw");
    for (const auto& page : {f.get("/quarantine", "", s.cookie), f.get("/quarantine/" + std::to_string(id), "", s.cookie),
                             f.post("/quarantine/confirm", "action=delete&id=" + std::to_string(id) + "&csrf=" + s.csrf,
                                    s.cookie)}) {
        REQUIRE(page.status == 200);
        CHECK_FALSE(has(page.body, "<script"));
        CHECK_FALSE(has(page.body, "<img"));
        CHECK_FALSE(has(page.body, "<html><body>"));
        CHECK_FALSE(has(page.body, "href=\"javascript"));
        CHECK_FALSE(has(page.body, "\xff"));
        CHECK(has(page.body, "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=http://x/&gt;"));
    }
}

TEST_CASE("web app: the health page, and when the daemon is away", "[web][app]")
{
    fixture f;
    auto s = f.login("alice", "alice-pw");  // reviewers may look too
    auto r = f.get("/health", "", s.cookie);
    CHECK(r.status == 200);
    CHECK(has(r.body, "<p class=\"error\" id=\"health-unreachable\">"));

    proto::health_report rep;
    rep.now = f.now;
    rep.hosts.push_back({"192.0.2.25", {"mx1.example.org", "<mx>.example"}, "dead", "probe", "banner-timeout",
                         f.now - 90});
    rep.failing.push_back({"broken.example", "servfail", "MX broken.example: SERVFAIL from 192.0.2.53", f.now - 7200});
    for (int i = 0; i < 288; ++i)
        rep.activity.push_back({f.now - 86400 + i * 300, static_cast<std::uint64_t>(i), 1, 0});
    f.health = rep;
    r = f.get("/health", "", s.cookie);
    CHECK(r.status == 200);
    CHECK(has(r.body, "<tr class=\"host\" data-address=\"192.0.2.25\">"));
    CHECK(has(r.body, "mx1.example.org, &lt;mx&gt;.example"));
    CHECK(has(r.body, "banner-timeout"));
    CHECK(has(r.body, "90 s"));
    CHECK(has(r.body, "<tr class=\"failing\" data-domain=\"broken.example\">"));
    CHECK(has(r.body, "2 h"));
    CHECK(has(r.body, "id=\"chart-decisions\""));
    CHECK(has(r.body, "id=\"chart-dns-failures\""));
    CHECK(has(r.body, "id=\"chart-dead-hosts\""));
    CHECK(has(r.body, ">287</text>"));
    CHECK_FALSE(has(r.body, "style="));
}

TEST_CASE("web app: stylesheet, unknown pages and methods, no store yet", "[web][app]")
{
    fixture f;
    auto r = f.get("/static/style.css");
    CHECK(r.status == 200);
    CHECK(r.content_type == "text/css; charset=utf-8");
    CHECK(r.body == stylesheet);

    auto s = f.login("admin", "admin-pw");
    // No quarantine file yet: an empty list, not an error.
    r = f.get("/quarantine", "", s.cookie);
    CHECK(r.status == 200);
    CHECK(has(r.body, "<p id=\"total\">0 entries match.</p>"));
    CHECK_FALSE(fs::exists(f.loc.sqlite_path));
    CHECK(f.get("/quarantine/1", "", s.cookie).status == 404);

    for (auto p : {"/nothing", "/quarantine/0", "/quarantine/12x", "/quarantine/1/raw/x", "/static/other.css",
                   "/quarantine/99999999999999999999"}) {
        INFO(p);
        r = f.get(p, "", s.cookie);
        CHECK(r.status == 404);
        CHECK(has(r.body, "<p class=\"error\">"));
    }
    CHECK(f.post("/nothing", "csrf=" + s.csrf, s.cookie).status == 404);
    request put;
    put.method = "PUT";
    put.path = "/quarantine";
    CHECK(f.a->handle(put, f.now).status == 405);
    // A form sent as something else.
    request odd;
    odd.method = "POST";
    odd.path = "/login";
    odd.content_type = "multipart/form-data";
    odd.body = "user=admin";
    CHECK(f.a->handle(odd, f.now).status == 400);
}
