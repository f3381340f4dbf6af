// Routing: RFC 5321 MX order, the health table's backoff, and the router's
// answers (healthy first, dead last, null MX, NXDOMAIN, last-known-good,
// quarantine after a long failure) over a scripted resolver and prober.
#include "engine/router.hpp"
#include "support/scripted_resolver.hpp"

#include <map>
#include <set>

using namespace mxw;
using namespace std::chrono_literals;
using dns::rrtype;
using dns::status;
using engine::probe_outcome;

namespace {

struct scripted_prober final : engine::prober {
    std::map<std::string, probe_outcome> outcomes;  // unscripted addresses greet fine
    std::vector<std::string> probed;
    asio::awaitable<engine::probe_result> probe(const std::string& address, std::uint16_t) override
    {
        probed.push_back(address);
        auto it = outcomes.find(address);
        co_return engine::probe_result{it == outcomes.end() ? probe_outcome::ok : it->second, "", 1ms};
    }
};

struct fixture {
    test::manual_clock clock;
    test::scripted_resolver r;
    scripted_prober p;
    engine::health_table health{engine::health_config{}};
    engine::routing_config cfg;
    asio::io_context io;

    fixture()
    {
        // Loopback addresses stand in for remote MX hosts in tests.
        cfg.deny = {*proto::parse_cidr("0.0.0.0/8")};
        host("mx1.two.example", "192.0.2.1");
        host("mx2.two.example", "192.0.2.2");
        r.mx("two.example", {{20, "mx2.two.example"}, {10, "mx1.two.example"}});
    }
    void host(const std::string& name, const std::string& addr)
    {
        r.values(name, rrtype::a, {addr});
        r.answer(name, rrtype::aaaa, status::nodata);
    }
    engine::router make()
    {
        return engine::router(cfg, r, p, health, clock.fn(), io.get_executor(), 42, [](engine::router::severity, const std::string&) {});
    }
    engine::map_answer lookup(engine::router& rt, const std::string& key, const std::string& map = "transport")
    {
        std::optional<engine::map_answer> out;
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                const std::string m = map, k = key;
                out = co_await rt.lookup(m, k);
            },
            asio::detached);
        io.restart();
        io.run();
        REQUIRE(out);
        return *out;
    }
    std::string ok(engine::router& rt, const std::string& key)
    {
        auto a = lookup(rt, key);
        CHECK(a.st == engine::map_answer::status::ok);
        return a.data;
    }
};

}  // namespace

TEST_CASE("order_mx sorts by preference and shuffles only equal preferences")
{
    std::vector<proto::mx_rdata> mx{{20, "c"}, {10, "a1"}, {10, "a2"}, {10, "a3"}, {30, "d"}};
    std::set<std::string> firsts;
    for (std::uint64_t seed = 0; seed < 32; ++seed) {
        auto m = mx;
        std::mt19937_64 rng(seed);
        engine::order_mx(m, rng);
        CHECK(m[0].preference == 10);
        CHECK(m[2].preference == 10);
        CHECK(m[3].exchange == "c");
        CHECK(m[4].exchange == "d");
        firsts.insert(m[0].exchange);
    }
    CHECK(firsts.size() == 3);  // every equal-preference host gets its turn first
    auto a = mx, b = mx;
    std::mt19937_64 r1(7), r2(7);
    engine::order_mx(a, r1);
    engine::order_mx(b, r2);
    CHECK(a == b);  // a fixed seed gives a fixed order
}

TEST_CASE("health table: expiry for good hosts, doubling backoff for dead ones")
{
    engine::health_config hc;
    hc.healthy_ttl = 600s;
    hc.dead_backoff = 60s;
    hc.max_backoff = 200s;
    engine::health_table h(hc);
    auto t0 = dns::clock::time_point(1000h);
    REQUIRE(h.start_probe("a", t0));
    CHECK_FALSE(h.start_probe("a", t0));  // one probe per address at a time
    h.record("a", {probe_outcome::banner_timeout, "", 0ms}, t0);
    CHECK(h.state("a") == engine::health_state::dead);
    CHECK_FALSE(h.start_probe("a", t0 + 59s));
    REQUIRE(h.start_probe("a", t0 + 60s));
    h.record("a", {probe_outcome::refused, "", 0ms}, t0 + 60s);
    CHECK_FALSE(h.start_probe("a", t0 + 60s + 119s));  // backoff doubled
    REQUIRE(h.start_probe("a", t0 + 60s + 120s));
    h.record("a", {probe_outcome::reset, "", 0ms}, t0 + 180s);
    CHECK(h.find("a")->next_probe == t0 + 180s + 200s);  // capped
    REQUIRE(h.start_probe("a", t0 + 380s));
    h.record("a", {probe_outcome::ok, "220 hi", 0ms}, t0 + 380s);
    CHECK(h.state("a") == engine::health_state::healthy);
    CHECK(h.find("a")->failures == 0);
    CHECK_FALSE(h.start_probe("a", t0 + 380s + 599s));
}

TEST_CASE_METHOD(fixture, "first lookup waits for the probes within the budget: healthy first, dead dropped")
{
    p.outcomes["192.0.2.1"] = probe_outcome::banner_timeout;  // seed 004: accepts, never greets
    auto rt = make();
    CHECK(ok(rt, "user@two.example") == "mxw:[192.0.2.2]:25");
    CHECK(p.probed.size() == 2);
    CHECK(ok(rt, "other@TWO.example") == "mxw:[192.0.2.2]:25");
    CHECK(p.probed.size() == 2);  // health is remembered: no new probes
}

TEST_CASE_METHOD(fixture, "probes slower than the budget: candidates in preference order")
{
    struct never_answers final : engine::prober {
        asio::awaitable<engine::probe_result> probe(const std::string&, std::uint16_t) override
        {
            asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::hours(1));
            boost::system::error_code ec;
            co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            co_return engine::probe_result{probe_outcome::banner_timeout, "", 1ms};
        }
    } slow;
    cfg.answer_budget = 50ms;
    engine::router rt(cfg, r, slow, health, clock.fn(), io.get_executor(), 42, [](engine::router::severity, const std::string&) {});
    std::optional<engine::map_answer> out;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            const std::string m = "transport", k = "u@two.example";
            out = co_await rt.lookup(m, k);
            io.stop();  // the probes would run for an hour
        },
        asio::detached);
    auto started = std::chrono::steady_clock::now();
    io.run();
    REQUIRE(out);
    CHECK(out->data == "mxw:[192.0.2.1]:25, [192.0.2.2]:25");
    CHECK(std::chrono::steady_clock::now() - started < 1s);
}

TEST_CASE_METHOD(fixture, "all hosts dead: they are still offered, and quarantined after quarantine-after")
{
    p.outcomes["192.0.2.1"] = probe_outcome::refused;
    p.outcomes["192.0.2.2"] = probe_outcome::greeting_4xx;
    cfg.quarantine_after = 3600s;
    auto rt = make();
    ok(rt, "u@two.example");
    CHECK(ok(rt, "u@two.example") == "mxw:[192.0.2.1]:25, [192.0.2.2]:25");
    clock.now += 3601s;
    r.mx("two.example", {{20, "mx2.two.example"}, {10, "mx1.two.example"}});
    CHECK(ok(rt, "u@two.example") == "mxq:all-mx-dead");
}

TEST_CASE_METHOD(fixture, "null MX and NXDOMAIN bounce with a clear text, or quarantine")
{
    r.mx("nullmx.example", {{0, ""}});
    r.answer("gone.example", rrtype::mx, status::nxdomain);
    SECTION("bounce")
    {
        auto rt = make();
        CHECK(ok(rt, "u@nullmx.example") ==
              "error:5.1.10 recipient domain nullmx.example does not accept mail (null MX, RFC 7505)");
        CHECK(ok(rt, "u@gone.example") == "error:5.1.2 recipient domain gone.example does not exist");
    }
    SECTION("quarantine")
    {
        cfg.on_null_mx = cfg.on_nxdomain = engine::routing_config::unroutable::quarantine;
        auto rt = make();
        CHECK(ok(rt, "u@nullmx.example") == "mxq:null-mx");
        CHECK(ok(rt, "u@gone.example") == "mxq:nxdomain");
    }
    SECTION("left to Postfix")
    {
        cfg.on_nxdomain = engine::routing_config::unroutable::postfix;
        auto rt = make();
        CHECK(lookup(rt, "u@gone.example").st == engine::map_answer::status::notfound);
    }
}

TEST_CASE_METHOD(fixture, "DNS failure without a previous answer: NOTFOUND, then quarantine")
{
    r.answer("broken.example", rrtype::mx, status::servfail);
    cfg.quarantine_after = 600s;
    auto rt = make();
    CHECK(lookup(rt, "u@broken.example").st == engine::map_answer::status::notfound);
    clock.now += 601s;
    CHECK(ok(rt, "u@broken.example") == "mxq:dns-failure");
}

TEST_CASE_METHOD(fixture, "DNS failure after a good answer: last-known-good keeps mail flowing (seed 000)")
{
    cfg.quarantine_after = 600s;
    auto rt = make();
    ok(rt, "u@two.example");
    r.answer("two.example", rrtype::mx, status::servfail);
    for (int i = 0; i < 5; ++i) {
        clock.now += 3601s;  // past every TTL and past quarantine-after
        CHECK(ok(rt, "u@two.example") == "mxw:[192.0.2.1]:25, [192.0.2.2]:25");
    }
}

TEST_CASE_METHOD(fixture, "implicit MX, address cap, hostname form")
{
    r.answer("bare.example", rrtype::mx, status::nodata);
    host("bare.example", "192.0.2.9");
    SECTION("implicit MX")
    {
        auto rt = make();
        CHECK(ok(rt, "u@bare.example") == "mxw:[192.0.2.9]:25");
    }
    SECTION("cap")
    {
        cfg.max_addresses = 1;
        auto rt = make();
        CHECK(ok(rt, "u@two.example") == "mxw:[192.0.2.1]:25");
    }
    SECTION("hostname next hops keep certificate names and DANE")
    {
        cfg.nexthop_form = engine::routing_config::form::hostname;
        auto rt = make();
        CHECK(ok(rt, "u@two.example") == "mxw:[mx1.two.example]:25, [mx2.two.example]:25");
    }
}

TEST_CASE_METHOD(fixture, "denied addresses are never emitted nor probed")
{
    host("mx1.loop.example", "127.0.0.1");
    r.mx("loop.example", {{10, "mx1.loop.example"}});
    cfg.deny = {*proto::parse_cidr("127.0.0.0/8"), *proto::parse_cidr("192.0.2.1")};
    auto rt = make();
    CHECK(lookup(rt, "u@loop.example").st == engine::map_answer::status::notfound);
    CHECK(ok(rt, "u@two.example") == "mxw:[192.0.2.2]:25");
    CHECK(std::find(p.probed.begin(), p.probed.end(), "127.0.0.1") == p.probed.end());
    CHECK(std::find(p.probed.begin(), p.probed.end(), "192.0.2.1") == p.probed.end());
}

TEST_CASE_METHOD(fixture, "an IPv4-mapped AAAA inside a denied IPv4 range is neither probed nor emitted")
{
    // ::ffff:127.0.0.1 reaches 127.0.0.1: handing it to Postfix is a mail loop.
    r.answer("mx1.mapped.example", rrtype::a, status::nodata);
    r.values("mx1.mapped.example", rrtype::aaaa, {"::ffff:127.0.0.1"});
    r.mx("mapped.example", {{10, "mx1.mapped.example"}});
    // Beside a good host, a mapped form of a denied single address is dropped too.
    r.values("mx1.mixed.example", rrtype::a, {"192.0.2.2"});
    r.values("mx1.mixed.example", rrtype::aaaa, {"::ffff:192.0.2.1"});
    r.mx("mixed.example", {{10, "mx1.mixed.example"}});
    cfg.deny = {*proto::parse_cidr("127.0.0.0/8"), *proto::parse_cidr("192.0.2.1")};
    auto rt = make();
    CHECK(lookup(rt, "u@mapped.example").st == engine::map_answer::status::notfound);
    CHECK(ok(rt, "u@mixed.example") == "mxw:[192.0.2.2]:25");
    CHECK(std::find(p.probed.begin(), p.probed.end(), "::ffff:127.0.0.1") == p.probed.end());
    CHECK(std::find(p.probed.begin(), p.probed.end(), "::ffff:192.0.2.1") == p.probed.end());
    CHECK(std::find(p.probed.begin(), p.probed.end(), "192.0.2.2") != p.probed.end());
}

TEST_CASE_METHOD(fixture, "keys out of scope get NOTFOUND without any lookup")
{
    cfg.exclude = {"local.example", ".corp.example"};
    auto rt = make();
    for (const char* key : {"*", ".example.com", ".", "u@[192.0.2.1]", "u@local.example", "u@a.corp.example", ""}) {
        INFO(key);
        CHECK(lookup(rt, key).st == engine::map_answer::status::notfound);
    }
    CHECK(lookup(rt, "u@two.example", "relay").st == engine::map_answer::status::notfound);
    CHECK(r.queries.empty());
    CHECK(rt.destination_of("u@corp.example") == "corp.example");  // only subdomains excluded
    CHECK(rt.destination_of("two.example") == "two.example");       // Sendmail sends the host itself
}

TEST_CASE_METHOD(fixture, "routing.mode = off answers nothing")
{
    cfg.routing_mode = engine::routing_config::mode::off;
    auto rt = make();
    CHECK(lookup(rt, "u@two.example").st == engine::map_answer::status::notfound);
}

namespace {

// Reads an answer as Postfix does (transport(5), smtp_connect.c): the
// transport before the first colon, then ", "-separated next hops, each a
// bracketed IP literal or host name with a numeric port.
bool postfix_accepts(const std::string& answer, const std::string& transport)
{
    auto colon = answer.find(':');
    if (colon == std::string::npos || answer.substr(0, colon) != transport)
        return false;
    std::string rest = answer.substr(colon + 1);
    std::size_t pos = 0;
    while (pos < rest.size()) {
        std::size_t end = rest.find(", ", pos);
        std::string hop = rest.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
        auto close = hop.find("]:");
        if (hop.front() != '[' || close == std::string::npos)
            return false;
        std::string inside = hop.substr(1, close - 1), port = hop.substr(close + 2);
        if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos)
            return false;
        if (!proto::canonical_address(inside) && inside.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") !=
                                                     std::string::npos)
            return false;
        pos = end == std::string::npos ? rest.size() : end + 2;
    }
    return true;
}

}  // namespace

TEST_CASE_METHOD(fixture, "every Postfix answer parses as a valid next-hop list")
{
    host("mx1.v6.example", "2001:db8::25");
    r.mx("v6.example", {{10, "mx1.v6.example"}, {20, "mx1.two.example"}});
    r.values("mx1.v6.example", rrtype::aaaa, {"2001:db8::25"});
    r.answer("mx1.v6.example", rrtype::a, status::nodata);
    for (auto form : {engine::routing_config::form::ip, engine::routing_config::form::hostname}) {
        cfg.nexthop_form = form;
        auto rt = make();
        for (const char* key : {"u@two.example", "u@v6.example"}) {
            auto a = ok(rt, key);
            INFO(a);
            CHECK(postfix_accepts(a, "mxw"));
        }
    }
}

TEST_CASE_METHOD(fixture, "Sendmail mailertable: host keys, parents, and answer syntax")
{
    r.mx("nullmx.example", {{0, ""}});
    host("mx1.v6.example", "2001:db8::25");
    r.values("mx1.v6.example", rrtype::aaaa, {"2001:db8::25"});
    r.answer("mx1.v6.example", rrtype::a, status::nodata);
    r.mx("v6.example", {{10, "mx1.v6.example"}});
    auto rt = make();
    CHECK(lookup(rt, "two.example", "mailertable").data == "esmtp:[192.0.2.1]:[192.0.2.2]");
    CHECK(lookup(rt, "v6.example", "mailertable").data == "esmtp:[IPv6:2001:db8::25]");
    CHECK(lookup(rt, "nullmx.example", "mailertable").data ==
          "error:5.1.10:550 recipient domain nullmx.example does not accept mail (null MX, RFC 7505)");
    for (const char* parent : {".example", "."}) {
        INFO(parent);
        CHECK(lookup(rt, parent, "mailertable").st == engine::map_answer::status::notfound);
    }
}

TEST_CASE_METHOD(fixture, "tls map: the site's level for our next hops, names to match when it verifies")
{
    SECTION("opportunistic level")
    {
        auto rt = make();
        ok(rt, "u@two.example");
        CHECK(lookup(rt, "[192.0.2.1]:25", "tls").data == "may");
    }
    SECTION("a verifying level names the MX host the bracketed IP hides")
    {
        cfg.tls_level = "secure";
        auto rt = make();
        ok(rt, "u@two.example");
        CHECK(lookup(rt, "[192.0.2.2]:25", "tls").data ==
              "secure match=mx2.two.example servername=mx2.two.example");
    }
    SECTION("keys that are not our next hops are left to other maps")
    {
        auto rt = make();
        ok(rt, "u@two.example");
        for (const char* key : {"[203.0.113.9]:25", "two.example", ".example", "[mx9.example]:25"}) {
            INFO(key);
            CHECK(lookup(rt, key, "tls").st == engine::map_answer::status::notfound);
        }
    }
    SECTION("hostname next hops get the level alone")
    {
        cfg.nexthop_form = engine::routing_config::form::hostname;
        cfg.tls_level = "verify";
        auto rt = make();
        ok(rt, "u@two.example");
        CHECK(lookup(rt, "[mx1.two.example]:25", "tls").data == "verify");
    }
}

TEST_CASE_METHOD(fixture, "smart host mode: every remote domain goes to the smart host's probed addresses")
{
    cfg.routing_mode = engine::routing_config::mode::smarthost;
    cfg.smarthost = "relay.example.net";
    cfg.smarthost_port = 587;
    cfg.exclude = {"local.example"};
    r.values("relay.example.net", rrtype::a, {"198.51.100.7", "198.51.100.8"});
    r.answer("relay.example.net", rrtype::aaaa, status::nodata);
    p.outcomes["198.51.100.7"] = probe_outcome::banner_timeout;
    auto rt = make();
    // The silent one is left out from the first answer on: its probe ends within the budget.
    CHECK(ok(rt, "a@one.example") == "mxw:[198.51.100.8]:587");
    CHECK(ok(rt, "b@two.example") == "mxw:[198.51.100.8]:587");
    for (const auto& q : r.queries)
        CHECK(q.starts_with("A") == true);  // the smart host's addresses only: no MX lookups at all
    // An excluded (local) domain and then Postfix's "*" keep Postfix's own routing.
    CHECK(lookup(rt, "c@local.example").st == engine::map_answer::status::notfound);
    CHECK(lookup(rt, "*").st == engine::map_answer::status::notfound);
    // sender_dependent_relayhost_maps: any sender key, next hops without a transport.
    CHECK(lookup(rt, "someone@sender.example", "relay").data == "[198.51.100.8]:587");
    CHECK(lookup(rt, "<>", "relay").data == "[198.51.100.8]:587");
    // The tls map knows the smart host's name for its addresses.
    cfg.tls_level = "verify";
    auto verifying = make();
    ok(verifying, "a@one.example");
    CHECK(lookup(verifying, "[198.51.100.8]:587", "tls").data ==
          "verify match=relay.example.net servername=relay.example.net");
}

TEST_CASE_METHOD(fixture, "smart host mode: DNS breaks, restored routes keep mail flowing (seed 000)")
{
    cfg.routing_mode = engine::routing_config::mode::smarthost;
    cfg.smarthost = "relay.example.net";
    cfg.smarthost_port = 25;
    r.values("relay.example.net", rrtype::a, {"198.51.100.7"});
    r.answer("relay.example.net", rrtype::aaaa, status::nodata);
    std::vector<engine::router::saved_route> saved;
    {
        auto rt = make();
        rt.on_route_changed([&](const engine::router::saved_route& s) { saved.push_back(s); });
        CHECK(ok(rt, "a@one.example") == "mxw:[198.51.100.7]:25");
        ok(rt, "a@one.example");
    }
    REQUIRE(saved.size() == 1);  // saved once: the second answer changed nothing
    CHECK(saved[0].destination == "[relay.example.net]");
    // A restart while DNS for the smart host fails: the saved route is used.
    r.answer("relay.example.net", rrtype::a, status::servfail);
    r.answer("relay.example.net", rrtype::aaaa, status::servfail);
    auto restarted = make();
    restarted.restore(saved);
    for (int i = 0; i < 3; ++i) {
        CHECK(ok(restarted, "b@two.example") == "mxw:[198.51.100.7]:25");
        clock.now += 7201s;  // past quarantine-after: a working last-known-good route is never quarantined
    }
}

TEST_CASE_METHOD(fixture, "smart host given as an address is used without DNS")
{
    cfg.routing_mode = engine::routing_config::mode::smarthost;
    cfg.smarthost = "198.51.100.9";
    cfg.smarthost_port = 2525;
    auto rt = make();
    CHECK(ok(rt, "a@one.example") == "mxw:[198.51.100.9]:2525");
    CHECK(lookup(rt, "a@one.example", "mailertable").data == "esmtp:[198.51.100.9]");
}

TEST_CASE_METHOD(fixture, "the relay map answers nothing outside smart host mode")
{
    auto rt = make();
    CHECK(lookup(rt, "someone@two.example", "relay").st == engine::map_answer::status::notfound);
}

TEST_CASE_METHOD(fixture, "MX names that share an address give one next hop")
{
    host("a.shared.example", "192.0.2.9");
    host("b.shared.example", "192.0.2.9");
    host("c.shared.example", "192.0.2.10");
    r.mx("shared.example", {{10, "a.shared.example"}, {20, "b.shared.example"}, {30, "c.shared.example"}});
    auto rt = make();
    CHECK(ok(rt, "u@shared.example") == "mxw:[192.0.2.9]:25, [192.0.2.10]:25");
}

TEST_CASE_METHOD(fixture, "tls map: an MX name pointed at our MX's address never widens its trust")
{
    // The attacker points his MX name at the victim's MX address; he can
    // get a certificate for his own name, not for the victim's.
    host("mx.victim.example", "192.0.2.50");
    host("mx.attacker.example", "192.0.2.50");
    r.mx("victim.example", {{10, "mx.victim.example"}});
    r.mx("attacker.example", {{10, "mx.attacker.example"}});
    const std::string level = GENERATE(as<std::string>{}, "verify", "secure");
    cfg.tls_level = level;
    auto rt = make();
    SECTION("victim first")
    {
        CHECK(ok(rt, "u@victim.example") == "mxw:[192.0.2.50]:25");
        CHECK(lookup(rt, "[192.0.2.50]:25", "tls").data ==
              level + " match=mx.victim.example servername=mx.victim.example");
        CHECK(ok(rt, "u@attacker.example") == "mxw:[mx.attacker.example]:25");
        // The hop given out before the sharing: no name is right for both,
        // so TLS policy fails it (Postfix tries the next hop or defers).
        auto shared = lookup(rt, "[192.0.2.50]:25", "tls");
        CHECK(shared.st == engine::map_answer::status::temp);
        CHECK(shared.data.find("attacker") == std::string::npos);
    }
    SECTION("attacker first")
    {
        CHECK(ok(rt, "u@attacker.example") == "mxw:[192.0.2.50]:25");
        CHECK(lookup(rt, "[192.0.2.50]:25", "tls").data ==
              level + " match=mx.attacker.example servername=mx.attacker.example");
        CHECK(ok(rt, "u@victim.example") == "mxw:[mx.victim.example]:25");
        CHECK(lookup(rt, "[192.0.2.50]:25", "tls").st == engine::map_answer::status::temp);
    }
    // From now on the victim's mail goes to its own MX name, which Postfix
    // checks the certificate against.
    CHECK(ok(rt, "u@victim.example") == "mxw:[mx.victim.example]:25");
    CHECK(lookup(rt, "[mx.victim.example]:25", "tls").data == level);
    CHECK(lookup(rt, "u@victim.example", "mailertable").data == "esmtp:[mx.victim.example]");
    for (const char* key : {"[192.0.2.50]:25", "[mx.victim.example]:25"}) {
        INFO(key);
        auto a = lookup(rt, key, "tls");
        CHECK(a.data.find("attacker") == std::string::npos);
    }
    CHECK(rt.table().addresses_of("mx.victim.example") == std::vector<std::string>{"192.0.2.50"});
}

TEST_CASE_METHOD(fixture, "tls map: MX names of one destination on one address are all its own")
{
    host("a.shared.example", "192.0.2.9");
    host("b.shared.example", "192.0.2.9");
    r.mx("shared.example", {{10, "a.shared.example"}, {20, "b.shared.example"}});
    cfg.tls_level = "verify";
    auto rt = make();
    CHECK(ok(rt, "u@shared.example") == "mxw:[192.0.2.9]:25");
    CHECK(lookup(rt, "[192.0.2.9]:25", "tls").data ==
          "verify match=a.shared.example:b.shared.example servername=a.shared.example");
}

TEST_CASE_METHOD(fixture, "unknown maps answer nothing")
{
    auto rt = make();
    CHECK(lookup(rt, "u@two.example", "nosuchmap").st == engine::map_answer::status::notfound);
    CHECK(r.queries.empty());
}

// routing.steer = dns-filter: Postfix asks about each record it looked up.
TEST_CASE_METHOD(fixture, "dnsfilter map: a dead MX host's record is dropped, the rest kept, never TEMP")
{
    cfg.steer = engine::steer_mode::dns_filter;
    p.outcomes["192.0.2.1"] = probe_outcome::banner_timeout;
    host("mx3.two.example", "192.0.2.3");
    auto rt = make();
    auto ask = [&](const std::string& key) { return lookup(rt, key, "dnsfilter"); };
    // The first MX question tracks the domain and waits for its probes.
    auto first = ask("two.example. 300 IN MX 10 mx1.two.example.");
    CHECK(first.st == engine::map_answer::status::ok);
    CHECK(first.data == "IGNORE");
    CHECK(ask("two.example. 300 IN MX 20 mx2.two.example.").st == engine::map_answer::status::notfound);
    // Its only address: the last usable record of that lookup stays.
    CHECK(ask("mx1.two.example. 300 IN A 192.0.2.1").st == engine::map_answer::status::notfound);
    CHECK(ask("mx2.two.example. 300 IN A 192.0.2.2").st == engine::map_answer::status::notfound);
    // An MX host mxwarden never saw in this domain's answer, TLSA, other
    // types and keys that do not parse: kept, whatever they are.
    CHECK(ask("two.example. 300 IN MX 30 mx3.two.example.").st == engine::map_answer::status::notfound);
    CHECK(ask("_25._tcp.mx1.two.example. 300 IN TLSA 3 1 1 00ff").st == engine::map_answer::status::notfound);
    CHECK(ask("two.example. 300 IN TXT \"v=spf1 -all\"").st == engine::map_answer::status::notfound);
    CHECK(ask("not a record").st == engine::map_answer::status::notfound);
    CHECK(ask(std::string(5000, 'a')).st == engine::map_answer::status::notfound);
}

TEST_CASE_METHOD(fixture, "dnsfilter map: an unprobed host is kept and probed in the background")
{
    struct never_answers final : engine::prober {
        std::vector<std::string> probed;
        asio::awaitable<engine::probe_result> probe(const std::string& address, std::uint16_t) override
        {
            probed.push_back(address);
            asio::steady_timer t(co_await asio::this_coro::executor, 1h);
            boost::system::error_code ec;
            co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            co_return engine::probe_result{probe_outcome::ok, "", 1ms};
        }
    } slow;
    cfg.steer = engine::steer_mode::dns_filter;
    cfg.answer_budget = 1ms;
    engine::router rt(cfg, r, slow, health, clock.fn(), io.get_executor(), 42,
                      [](engine::router::severity, const std::string&) {});
    std::optional<engine::map_answer> out;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            const std::string m = "dnsfilter", k = "two.example. 300 IN MX 10 mx1.two.example.";
            out = co_await rt.lookup(m, k);
            // Time for the resolution to finish and the probes to start,
            // which then would run for an hour.
            asio::steady_timer settle(io, 100ms);
            co_await settle.async_wait(asio::use_awaitable);
            io.stop();
        },
        asio::detached);
    io.run();
    REQUIRE(out);
    CHECK(out->st == engine::map_answer::status::notfound);
    CHECK(slow.probed.size() == 2);
}

TEST_CASE_METHOD(fixture, "dnsfilter map: address records of hosts known from the transport lookup only")
{
    cfg.steer = engine::steer_mode::dns_filter;
    r.answer("aonly.example", rrtype::mx, status::nodata);
    r.values("aonly.example", rrtype::a, {"192.0.2.8", "192.0.2.9"});
    r.answer("aonly.example", rrtype::aaaa, status::nodata);
    p.outcomes["192.0.2.8"] = probe_outcome::refused;
    auto rt = make();
    // A name never routed (a relay host, say) is neither resolved nor probed.
    CHECK(lookup(rt, "aonly.example. 300 IN A 192.0.2.8", "dnsfilter").st == engine::map_answer::status::notfound);
    CHECK(r.queries.empty());
    CHECK(p.probed.empty());
    // The transport lookup at queue time tracks the domain; its own address
    // is the implicit MX (RFC 5321 5.1).
    CHECK(lookup(rt, "u@aonly.example").st == engine::map_answer::status::notfound);
    auto dead = lookup(rt, "aonly.example. 300 IN A 192.0.2.8", "dnsfilter");
    CHECK(dead.st == engine::map_answer::status::ok);
    CHECK(dead.data == "IGNORE");
    CHECK(lookup(rt, "aonly.example. 300 IN A 192.0.2.9", "dnsfilter").st == engine::map_answer::status::notfound);
}

TEST_CASE_METHOD(fixture, "transport map with steer = dns-filter: only the quarantine, no next hops")
{
    cfg.steer = engine::steer_mode::dns_filter;
    cfg.on_null_mx = engine::routing_config::unroutable::quarantine;
    r.mx("nullmx.example", {{0, ""}});
    r.answer("gone.example", rrtype::mx, status::nxdomain);
    auto rt = make();
    CHECK(lookup(rt, "u@two.example").st == engine::map_answer::status::notfound);
    CHECK(p.probed.size() == 2);  // still resolved and probed, ahead of the dnsfilter questions
    CHECK(ok(rt, "u@nullmx.example") == "mxq:null-mx");
    // Postfix bounces a nonexistent domain by itself.
    CHECK(lookup(rt, "u@gone.example").st == engine::map_answer::status::notfound);
}

TEST_CASE_METHOD(fixture, "route shows the dnsfilter decision and each host's recent outcomes")
{
    cfg.steer = engine::steer_mode::dns_filter;
    p.outcomes["192.0.2.1"] = probe_outcome::banner_timeout;
    auto rt = make();
    engine::observation lost{engine::health_source::delivery, false, "timeout", "ehlo", "conversation timed out", ""};
    health.observe("192.0.2.2", lost, clock.now);
    std::optional<std::string> text, json;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            const std::string d = "two.example";
            text = co_await rt.explain(d, false);
            json = co_await rt.explain(d, true);
        },
        asio::detached);
    io.run();
    REQUIRE(text);
    REQUIRE(json);
    CHECK(text->find("steer:    dns-filter") != std::string::npos);
    CHECK(text->find("delivery timeout@ehlo 0s ago: conversation timed out") != std::string::npos);
    CHECK(text->find("probe banner-timeout") != std::string::npos);
    CHECK(json->find("\"source\":\"delivery\",\"ok\":false,\"outcome\":\"timeout\",\"stage\":\"ehlo\"") !=
          std::string::npos);
    // Both hosts dead now: the last usable records are never dropped.
    CHECK(json->find("\"dnsfilter\":\"ignore\"") == std::string::npos);
}
