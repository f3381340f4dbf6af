// The sender-domain and client-PTR checks against a scripted resolver: every
// outcome of every lookup, and exactly the lookups each path needs.
#include "engine/client_check.hpp"
#include "engine/sender_check.hpp"
#include "proto/limits.hpp"
#include "support/scripted_resolver.hpp"

using namespace mxw;
using dns::rrtype;
using dns::status;
using engine::outcome;

namespace {

const auto far_deadline = dns::clock::time_point::max();

engine::finding sender(test::scripted_resolver& r, const std::string& domain)
{
    return test::run(engine::check_sender_domain(r, domain, far_deadline));
}

engine::finding client(test::scripted_resolver& r, const engine::client_info& c)
{
    return test::run(engine::check_client_ptr(r, c, far_deadline));
}

}  // namespace

TEST_CASE("sender_domain extracts the domain Postfix would check")
{
    struct row {
        const char* label;
        std::string_view in;
        std::optional<std::string> want;
    };
    const row rows[] = {
        {"plain", "user@example.org", "example.org"},
        {"case folded, trailing dot", "User@Example.ORG.", "example.org"},
        {"angle brackets", "<user@example.org>", "example.org"},
        {"last @ wins", "a@b@example.org", "example.org"},
        {"null sender", "", std::nullopt},
        {"null sender in brackets", "<>", std::nullopt},
        {"no domain", "postmaster", std::nullopt},
        {"empty domain", "user@", std::nullopt},
        {"address literal", "user@[192.0.2.1]", std::nullopt},
    };
    for (const auto& r : rows) {
        INFO(r.label);
        CHECK(engine::sender_domain(r.in) == r.want);
    }
}

TEST_CASE("sender check: MX answers")
{
    test::scripted_resolver r;
    SECTION("MX present: ok, one lookup")
    {
        r.mx("example.org", {{10, "mx1.example.org"}});
        auto f = sender(r, "example.org");
        CHECK(f.result == outcome::ok);
        CHECK(r.queries == std::vector<std::string>{"MX example.org"});
        CHECK(f.ttl == std::chrono::seconds(300));
        CHECK(f.evidence == "MX example.org ok ttl=300 [10 mx1.example.org]");
    }
    SECTION("null MX: rejected without further lookups")
    {
        r.mx("nullmx.example", {{0, ""}});
        auto f = sender(r, "nullmx.example");
        CHECK(f.result == outcome::null_mx);
        CHECK(r.queries.size() == 1);
    }
    SECTION("a lone empty exchange at another preference still says no mail")
    {
        r.mx("odd.example", {{10, ""}});
        CHECK(sender(r, "odd.example").result == outcome::null_mx);
    }
    SECTION("an empty exchange beside a real MX is not a null MX")
    {
        r.mx("mixed.example", {{0, ""}, {10, "mx.mixed.example"}});
        CHECK(sender(r, "mixed.example").result == outcome::ok);
    }
    SECTION("NXDOMAIN: no domain, no address lookups")
    {
        r.answer("gone.example", rrtype::mx, status::nxdomain, 60);
        auto f = sender(r, "gone.example");
        CHECK(f.result == outcome::no_domain);
        CHECK(f.ttl == std::chrono::seconds(60));
        CHECK(r.queries.size() == 1);
    }
    for (auto st : {status::servfail, status::timeout, status::bogus}) {
        DYNAMIC_SECTION("MX " << dns::to_string(st) << ": temporary failure")
        {
            r.answer("flaky.example", rrtype::mx, st);
            CHECK(sender(r, "flaky.example").result == outcome::sender_tempfail);
            CHECK(r.queries.size() == 1);
        }
    }
}

TEST_CASE("sender check: no MX falls back to A and AAAA")
{
    test::scripted_resolver r;
    r.answer("d.example", rrtype::mx, status::nodata, 120);
    SECTION("A present: implicit MX")
    {
        r.values("d.example", rrtype::a, {"192.0.2.1"}, 30);
        auto f = sender(r, "d.example");
        CHECK(f.result == outcome::ok);
        CHECK(r.queries == std::vector<std::string>{"MX d.example", "A d.example"});
        CHECK(f.ttl == std::chrono::seconds(30));
    }
    SECTION("only AAAA present: implicit MX")
    {
        r.answer("d.example", rrtype::a, status::nodata);
        r.values("d.example", rrtype::aaaa, {"2001:db8::1"});
        CHECK(sender(r, "d.example").result == outcome::ok);
        CHECK(r.queries.size() == 3);
    }
    SECTION("neither: no domain")
    {
        r.answer("d.example", rrtype::a, status::nodata);
        r.answer("d.example", rrtype::aaaa, status::nodata);
        CHECK(sender(r, "d.example").result == outcome::no_domain);
    }
    SECTION("address lookup fails temporarily and nothing else is found: tempfail")
    {
        r.answer("d.example", rrtype::a, status::servfail);
        r.answer("d.example", rrtype::aaaa, status::nodata);
        CHECK(sender(r, "d.example").result == outcome::sender_tempfail);
    }
    SECTION("AAAA times out after A said nothing: tempfail")
    {
        r.answer("d.example", rrtype::a, status::nodata);
        r.answer("d.example", rrtype::aaaa, status::timeout);
        CHECK(sender(r, "d.example").result == outcome::sender_tempfail);
    }
    SECTION("a temporary A failure does not hide a good AAAA")
    {
        r.answer("d.example", rrtype::a, status::timeout);
        r.values("d.example", rrtype::aaaa, {"2001:db8::1"});
        CHECK(sender(r, "d.example").result == outcome::ok);
    }
}

TEST_CASE("client check: Postfix's own verdict is used when it settles the question")
{
    test::scripted_resolver r;
    auto f = client(r, {"192.0.2.7", "mail.example.org", "mail.example.org"});
    CHECK(f.result == outcome::ok);
    CHECK(r.queries.empty());
}

TEST_CASE("client check: Postfix saw a PTR it could not confirm")
{
    test::scripted_resolver r;
    engine::client_info c{"192.0.2.7", "unknown", "Mail.Example.ORG"};
    SECTION("forward lookup matches now: ok (Postfix had a hiccup)")
    {
        r.values("mail.example.org", rrtype::a, {"192.0.2.7"});
        CHECK(client(r, c).result == outcome::ok);
        CHECK(r.queries == std::vector<std::string>{"A mail.example.org"});
    }
    SECTION("forward lookup gives another address: not confirmed")
    {
        r.values("mail.example.org", rrtype::a, {"192.0.2.99"});
        CHECK(client(r, c).result == outcome::not_confirmed);
    }
    SECTION("forward lookup NXDOMAIN: not confirmed")
    {
        r.answer("mail.example.org", rrtype::a, status::nxdomain);
        CHECK(client(r, c).result == outcome::not_confirmed);
    }
    SECTION("forward lookup SERVFAIL: temporary")
    {
        r.answer("mail.example.org", rrtype::a, status::servfail);
        CHECK(client(r, c).result == outcome::client_tempfail);
    }
}

TEST_CASE("client check: resolving the PTR ourselves")
{
    test::scripted_resolver r;
    engine::client_info c{"192.0.2.7", "unknown", "unknown"};
    const std::string rev = "7.2.0.192.in-addr.arpa";
    SECTION("no PTR (NXDOMAIN)")
    {
        r.answer(rev, rrtype::ptr, status::nxdomain);
        CHECK(client(r, c).result == outcome::no_ptr);
    }
    SECTION("no PTR (NODATA)")
    {
        r.answer(rev, rrtype::ptr, status::nodata);
        CHECK(client(r, c).result == outcome::no_ptr);
    }
    for (auto st : {status::servfail, status::timeout, status::bogus}) {
        DYNAMIC_SECTION("PTR " << dns::to_string(st) << ": temporary")
        {
            r.answer(rev, rrtype::ptr, st);
            CHECK(client(r, c).result == outcome::client_tempfail);
        }
    }
    SECTION("PTR confirmed by its A record")
    {
        r.values(rev, rrtype::ptr, {"mail.example.org"});
        r.values("mail.example.org", rrtype::a, {"192.0.2.8", "192.0.2.7"});
        auto f = client(r, c);
        CHECK(f.result == outcome::ok);
        CHECK(r.queries == std::vector<std::string>{"PTR " + rev, "A mail.example.org"});
    }
    SECTION("second PTR name confirms")
    {
        r.values(rev, rrtype::ptr, {"a.example.org", "b.example.org"});
        r.values("a.example.org", rrtype::a, {"192.0.2.99"});
        r.values("b.example.org", rrtype::a, {"192.0.2.7"});
        CHECK(client(r, c).result == outcome::ok);
    }
    SECTION("one name mismatches, the other fails temporarily: temporary, not forged")
    {
        r.values(rev, rrtype::ptr, {"a.example.org", "b.example.org"});
        r.values("a.example.org", rrtype::a, {"192.0.2.99"});
        r.answer("b.example.org", rrtype::a, status::servfail);
        CHECK(client(r, c).result == outcome::client_tempfail);
    }
    SECTION("huge PTR sets are checked only up to the limit")
    {
        std::vector<std::string> names;
        for (int i = 0; i < 10; ++i) {
            names.push_back("n" + std::to_string(i) + ".example.org");
            r.values(names.back(), rrtype::a, {"192.0.2.99"});
        }
        r.values(rev, rrtype::ptr, names);
        CHECK(client(r, c).result == outcome::not_confirmed);
        CHECK(r.queries.size() == 1 + proto::max_ptr_names_checked);
    }
}

TEST_CASE("client check: IPv6 uses ip6.arpa and AAAA")
{
    test::scripted_resolver r;
    const std::string rev = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa";
    r.values(rev, rrtype::ptr, {"v6.example.org"});
    r.values("v6.example.org", rrtype::aaaa, {"2001:db8:0:0::1"});
    CHECK(client(r, {"2001:DB8::1", "unknown", "unknown"}).result == outcome::ok);
}

TEST_CASE("client check: no usable address is skipped")
{
    test::scripted_resolver r;
    CHECK(client(r, {"not-an-ip", "unknown", "unknown"}).result == outcome::skipped);
    CHECK(client(r, {"", "", ""}).result == outcome::skipped);
    CHECK(r.queries.empty());
}
