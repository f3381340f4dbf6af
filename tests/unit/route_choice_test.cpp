// choose_route: the pure route decision over a snapshot of one
// destination's DNS and its hosts' health, without timers or probes.
#include "engine/route_choice.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <set>

using namespace mxw;
using namespace std::chrono_literals;
using engine::health_state;
using engine::route_choice;
using engine::route_dns;

namespace {

using time_point = engine::route_snapshot::time_point;
const time_point t0 = time_point(1000h);

route_dns mx_route(std::vector<engine::mx_host> hosts, route_dns::kind k = route_dns::kind::mx)
{
    route_dns d;
    d.k = k;
    d.hosts = std::move(hosts);
    return d;
}

struct world {
    std::map<std::string, health_state> health;  // unlisted addresses are unprobed
    std::set<std::string> shared;
    engine::routing_config cfg;

    engine::route_decision choose(const route_dns& dns, time_point dns_failing_since = {}, time_point dead_since = {},
                                  time_point now = t0, bool resolved = true) const
    {
        engine::route_snapshot s{
            .dns = dns,
            .resolved = resolved,
            .dns_failing_since = dns_failing_since,
            .dead_since = dead_since,
            .now = now,
            .health = [this](const std::string& a) {
                auto it = health.find(a);
                return it == health.end() ? health_state::unknown : it->second;
            },
            .shared = [this](const std::string& a) { return shared.contains(a); },
        };
        return engine::choose_route("example.org", s, cfg);
    }
};

const route_dns two = mx_route({{10, "mx1.example.org", {"192.0.2.1"}},
                                {20, "mx2.example.org", {"192.0.2.2"}},
                                {30, "mx3.example.org", {"192.0.2.3"}}});

std::vector<std::string> hops(const engine::route_decision& d)
{
    CHECK(d.choice.k == route_choice::kind::hops);
    return d.choice.hops;
}

}  // namespace

TEST_CASE("choose_route: healthy first, then unprobed, in preference order; dead left out")
{
    world w;
    SECTION("all unprobed: preference order")
    {
        CHECK(hops(w.choose(two)) == std::vector<std::string>{"192.0.2.1", "192.0.2.2", "192.0.2.3"});
    }
    SECTION("healthy before unprobed, dead skipped while others remain")
    {
        w.health = {{"192.0.2.1", health_state::dead}, {"192.0.2.3", health_state::healthy}};
        auto d = w.choose(two);
        CHECK(hops(d) == std::vector<std::string>{"192.0.2.3", "192.0.2.2"});
        CHECK(d.dead_since == time_point{});
    }
    SECTION("a failing streak ends when one host answers")
    {
        w.health = {{"192.0.2.1", health_state::healthy}};
        CHECK(w.choose(two, {}, t0 - 10s).dead_since == time_point{});
    }
    SECTION("the address cap")
    {
        w.cfg.max_addresses = 2;
        CHECK(hops(w.choose(two)).size() == 2);
    }
}

TEST_CASE("choose_route: all hosts dead are still offered, then quarantined after quarantine-after")
{
    world w;
    w.cfg.quarantine_after = 3600s;
    w.health = {{"192.0.2.1", health_state::dead}, {"192.0.2.2", health_state::dead}, {"192.0.2.3", health_state::dead}};
    auto first = w.choose(two);
    CHECK(hops(first) == std::vector<std::string>{"192.0.2.1", "192.0.2.2", "192.0.2.3"});
    CHECK(first.dead_since == t0);  // the streak starts now
    auto later = w.choose(two, {}, first.dead_since, t0 + 3599s);
    CHECK(later.choice.k == route_choice::kind::hops);
    CHECK(later.dead_since == t0);  // and is kept, not restarted
    auto overdue = w.choose(two, {}, first.dead_since, t0 + 3600s);
    CHECK(overdue.choice.k == route_choice::kind::quarantine);
    CHECK(overdue.choice.text == "all-mx-dead");
}

TEST_CASE("choose_route: null MX and NXDOMAIN as configured")
{
    world w;
    const route_dns null_mx = mx_route({}, route_dns::kind::null_mx);
    const route_dns nxdomain = mx_route({}, route_dns::kind::nxdomain);
    auto n = w.choose(null_mx).choice;
    CHECK(n.k == route_choice::kind::bounce);
    CHECK(n.status == "5.1.10");
    CHECK(n.text == "recipient domain example.org does not accept mail (null MX, RFC 7505)");
    auto x = w.choose(nxdomain).choice;
    CHECK(x.k == route_choice::kind::bounce);
    CHECK(x.status == "5.1.2");
    w.cfg.on_null_mx = engine::routing_config::unroutable::quarantine;
    w.cfg.on_nxdomain = engine::routing_config::unroutable::postfix;
    CHECK(w.choose(null_mx).choice.text == "null-mx");
    CHECK(w.choose(null_mx).choice.k == route_choice::kind::quarantine);
    CHECK(w.choose(nxdomain).choice.k == route_choice::kind::none);
}

TEST_CASE("choose_route: DNS failure without a route is Postfix's until quarantine-after")
{
    world w;
    w.cfg.quarantine_after = 600s;
    const route_dns tempfail = mx_route({}, route_dns::kind::tempfail);
    const route_dns no_address = mx_route({}, route_dns::kind::no_address);
    CHECK(w.choose(tempfail, t0 - 599s).choice.k == route_choice::kind::none);
    CHECK(w.choose(tempfail, t0 - 600s).choice.text == "dns-failure");
    CHECK(w.choose(no_address, t0 - 600s).choice.text == "no-mx-address");
    CHECK(w.choose(tempfail, t0 - 600s, {}, t0, false).choice.k == route_choice::kind::none);  // never resolved
}

TEST_CASE("choose_route: denied addresses are never chosen")
{
    world w;
    w.cfg.deny = {*proto::parse_cidr("192.0.2.1"), *proto::parse_cidr("127.0.0.0/8")};
    CHECK(hops(w.choose(two)) == std::vector<std::string>{"192.0.2.2", "192.0.2.3"});
    // Every address denied (an MX pointing at ourselves): the MTA decides.
    auto loop = w.choose(mx_route({{10, "mx.example.org", {"127.0.0.1"}}}));
    CHECK(loop.choice.k == route_choice::kind::none);
}

TEST_CASE("choose_route: a smart host's route is its own addresses")
{
    world w;
    w.cfg.routing_mode = engine::routing_config::mode::smarthost;
    w.cfg.smarthost = "relay.example.net";
    const route_dns relay =
        mx_route({{0, "relay.example.net", {"198.51.100.7", "198.51.100.8"}}}, route_dns::kind::implicit);
    w.health = {{"198.51.100.7", health_state::dead}};
    CHECK(hops(w.choose(relay)) == std::vector<std::string>{"198.51.100.8"});
}

TEST_CASE("choose_route: names instead of addresses")
{
    world w;
    SECTION("hostname form: every host by name, ranked by its best address")
    {
        w.cfg.nexthop_form = engine::routing_config::form::hostname;
        const route_dns dual = mx_route({{10, "mx1.example.org", {"192.0.2.1", "192.0.2.11"}},
                                         {20, "mx2.example.org", {"192.0.2.2"}},
                                         {30, "mx3.example.org", {"192.0.2.3"}}});
        w.health = {{"192.0.2.1", health_state::dead}, {"192.0.2.11", health_state::healthy},
                    {"192.0.2.2", health_state::dead}};
        CHECK(hops(w.choose(dual)) == std::vector<std::string>{"mx1.example.org", "mx3.example.org"});
    }
    SECTION("an address another destination shares is emitted by name when names are checked")
    {
        w.shared = {"192.0.2.2"};
        for (const char* level : {"verify", "secure"}) {
            w.cfg.tls_level = level;
            CHECK(hops(w.choose(two)) == std::vector<std::string>{"192.0.2.1", "mx2.example.org", "192.0.2.3"});
        }
        // No name is checked at these levels: the address is as good as the name.
        for (const char* level : {"none", "may", "encrypt"}) {
            w.cfg.tls_level = level;
            CHECK(hops(w.choose(two)) == std::vector<std::string>{"192.0.2.1", "192.0.2.2", "192.0.2.3"});
        }
    }
}
