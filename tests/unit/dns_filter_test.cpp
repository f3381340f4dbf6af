// Tests for engine/dns_filter: which records Postfix's smtp_dns_reply_filter
// is told to ignore. The cases that matter most are the ones that must be
// kept: TLSA, the null MX, anything not probed, and the last usable record
// of a lookup, since dropping those would make Postfix worse off than it is
// without mxwarden.
#include "engine/dns_filter.hpp"
#include "proto/dns_filter_key.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace engine = mxw::engine;
namespace proto = mxw::proto;
using engine::dns_filter_action;
using engine::dns_filter_reason;
using hs = engine::health_state;

namespace {

proto::dns_filter_record key(const std::string& text)
{
    auto r = proto::parse_dns_filter_key(text);
    REQUIRE(r.has_value());
    return *r;
}

engine::dns_filter_decision ignored() { return {dns_filter_action::ignore, dns_filter_reason::dead}; }
engine::dns_filter_decision kept(dns_filter_reason why) { return {dns_filter_action::keep, why}; }

// example.com: mx1 dead on every address, mx2 healthy, mx3 not probed yet,
// mx4 with no addresses known.
engine::dns_filter_snapshot example_mx_set()
{
    return {{
        {"mx1.example.com", {{"192.0.2.1", hs::dead}, {"2001:db8::1", hs::dead}}},
        {"mx2.example.com", {{"192.0.2.2", hs::healthy}}},
        {"mx3.example.com", {{"192.0.2.3", hs::unknown}}},
        {"mx4.example.com", {}},
    }};
}

}  // namespace

TEST_CASE("decide_dns_filter: MX records", "[dns_filter]")
{
    struct tcase {
        const char* label;
        std::string record;
        engine::dns_filter_snapshot snapshot;
        engine::dns_filter_decision want;
    };
    auto c = GENERATE(values<tcase>({
        {"dead host, healthy alternative", "example.com. 300 IN MX 10 mx1.example.com.", example_mx_set(), ignored()},
        {"healthy host", "example.com. 300 IN MX 20 mx2.example.com.", example_mx_set(),
         kept(dns_filter_reason::not_dead)},
        {"host not probed yet", "example.com. 300 IN MX 30 mx3.example.com.", example_mx_set(),
         kept(dns_filter_reason::not_dead)},
        {"host without known addresses", "example.com. 300 IN MX 40 mx4.example.com.", example_mx_set(),
         kept(dns_filter_reason::unknown_owner)},
        {"exchange not in the MX set", "example.com. 300 IN MX 10 mx9.example.com.", example_mx_set(),
         kept(dns_filter_reason::unknown_owner)},
        {"unknown domain", "example.org. 300 IN MX 10 mx1.example.org.", {}, kept(dns_filter_reason::unknown_owner)},
        {"null MX", "example.com. 300 IN MX 0 .", example_mx_set(), kept(dns_filter_reason::null_mx)},
        {"one address of the host still healthy",
         "example.com. 300 IN MX 10 mx1.example.com.",
         {{{"mx1.example.com", {{"192.0.2.1", hs::dead}, {"2001:db8::1", hs::healthy}}},
           {"mx2.example.com", {{"192.0.2.2", hs::healthy}}}}},
         kept(dns_filter_reason::not_dead)},
        {"every host dead: the last usable MX stays",
         "example.com. 300 IN MX 10 mx1.example.com.",
         {{{"mx1.example.com", {{"192.0.2.1", hs::dead}}}, {"mx2.example.com", {{"192.0.2.2", hs::dead}}}}},
         kept(dns_filter_reason::last_usable)},
        {"the only MX is dead", "example.com. 300 IN MX 10 mx1.example.com.",
         {{{"mx1.example.com", {{"192.0.2.1", hs::dead}}}}}, kept(dns_filter_reason::last_usable)},
        {"an alternative with unknown addresses does not count",
         "example.com. 300 IN MX 10 mx1.example.com.",
         {{{"mx1.example.com", {{"192.0.2.1", hs::dead}}}, {"mx4.example.com", {}}}},
         kept(dns_filter_reason::last_usable)},
        {"an alternative not probed yet counts",
         "example.com. 300 IN MX 10 mx1.example.com.",
         {{{"mx1.example.com", {{"192.0.2.1", hs::dead}}}, {"mx3.example.com", {{"192.0.2.3", hs::unknown}}}}},
         ignored()},
        {"the same host under another preference is no alternative",
         "example.com. 300 IN MX 10 mx1.example.com.",
         {{{"mx1.example.com", {{"192.0.2.1", hs::dead}}}, {"mx1.example.com", {{"192.0.2.1", hs::dead}}}}},
         kept(dns_filter_reason::last_usable)},
    }));
    INFO(c.label);
    CHECK(engine::decide_dns_filter(key(c.record), c.snapshot) == c.want);
}

TEST_CASE("decide_dns_filter: A and AAAA records", "[dns_filter]")
{
    engine::dns_filter_snapshot mixed{{
        {"mx1.example.com",
         {{"192.0.2.1", hs::dead},
          {"192.0.2.2", hs::healthy},
          {"192.0.2.3", hs::unknown},
          {"2001:db8::1", hs::dead},
          {"2001:db8::2", hs::dead}}},
        {"mx2.example.com", {{"192.0.2.9", hs::dead}, {"2001:db8::9", hs::healthy}}},
    }};
    struct tcase {
        const char* label;
        std::string record;
        engine::dns_filter_decision want;
    };
    auto c = GENERATE(values<tcase>({
        {"dead, a healthy IPv4 sibling", "mx1.example.com. 300 IN A 192.0.2.1", ignored()},
        {"healthy", "mx1.example.com. 300 IN A 192.0.2.2", kept(dns_filter_reason::not_dead)},
        {"not probed yet", "mx1.example.com. 300 IN A 192.0.2.3", kept(dns_filter_reason::not_dead)},
        {"address not in the snapshot", "mx1.example.com. 300 IN A 192.0.2.4", kept(dns_filter_reason::unknown_owner)},
        {"every IPv6 address dead", "mx1.example.com. 300 IN AAAA 2001:db8::1", kept(dns_filter_reason::last_usable)},
        {"only an IPv6 sibling is usable: IPv4 stays", "mx2.example.com. 300 IN A 192.0.2.9",
         kept(dns_filter_reason::last_usable)},
        {"healthy IPv6", "mx2.example.com. 300 IN AAAA 2001:db8::9", kept(dns_filter_reason::not_dead)},
        {"another host's address", "mx2.example.com. 300 IN A 192.0.2.1", kept(dns_filter_reason::unknown_owner)},
        {"unknown host", "mx9.example.com. 300 IN A 192.0.2.1", kept(dns_filter_reason::unknown_owner)},
        {"owner case does not matter", "MX1.Example.Com. 300 IN A 192.0.2.1", ignored()},
    }));
    INFO(c.label);
    CHECK(engine::decide_dns_filter(key(c.record), mixed) == c.want);
}

TEST_CASE("decide_dns_filter: a dead IPv6 address with a usable IPv6 sibling", "[dns_filter]")
{
    engine::dns_filter_snapshot s{{{"mx1.example.com", {{"2001:db8::1", hs::dead}, {"2001:db8::2", hs::unknown}}}}};
    CHECK(engine::decide_dns_filter(key("mx1.example.com. 300 IN AAAA 2001:DB8::1"), s) == ignored());
}

TEST_CASE("decide_dns_filter: TLSA and other types are always kept", "[dns_filter]")
{
    // Even with the owner's host dead: DANE needs every TLSA record, and a
    // missing one would make Postfix fail verification, not skip a host.
    engine::dns_filter_snapshot s{{
        {"_25._tcp.mx1.example.com", {{"192.0.2.1", hs::dead}}},
        {"mx1.example.com", {{"192.0.2.1", hs::dead}, {"192.0.2.2", hs::healthy}}},
    }};
    auto rec = GENERATE("_25._tcp.mx1.example.com. 300 IN TLSA 3 1 1 0123abcd", "mx1.example.com. 300 IN CNAME x.example.",
                        "mx1.example.com. 300 IN TXT hello");
    INFO(rec);
    CHECK(engine::decide_dns_filter(key(rec), s) == kept(dns_filter_reason::not_filtered));
}

TEST_CASE("dns_filter_reason names for the log", "[dns_filter]")
{
    CHECK(engine::to_string(dns_filter_reason::dead) == "dead");
    CHECK(engine::to_string(dns_filter_reason::last_usable) == "last-usable");
    CHECK(engine::to_string(dns_filter_reason::unknown_owner) == "unknown");
}
