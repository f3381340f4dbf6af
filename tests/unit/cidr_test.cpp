// proto/cidr: routing.deny-addresses ranges, and IPv4-mapped IPv6
// addresses (RFC 4291 §2.5.5.2) taken as the IPv4 address they map.
#include "proto/cidr.hpp"

#include <catch2/catch.hpp>

using mxw::proto::parse_cidr;

TEST_CASE("parse_cidr takes addresses and prefixes within the family's length", "[cidr]")
{
    auto r = parse_cidr("127.0.0.0/8");
    REQUIRE(r);
    CHECK_FALSE(r->v6);
    CHECK(r->prefix == 8);
    r = parse_cidr("fe80::/10");
    REQUIRE(r);
    CHECK(r->v6);
    CHECK(r->prefix == 10);
    CHECK(parse_cidr("192.0.2.1")->prefix == 32);
    CHECK(parse_cidr("::1")->prefix == 128);
    for (const char* bad : {"", "/8", "127.0.0.0/33", "::/129", "127.0.0.0/", "127.0.0.0/8x", "example.org",
                            "127.0.0.1 ", "::ffff:1.2.3.4/129"}) {
        INFO(bad);
        CHECK_FALSE(parse_cidr(bad));
    }
}

TEST_CASE("cidr::contains matches by prefix, not across families", "[cidr]")
{
    auto lo = *parse_cidr("127.0.0.0/8");
    CHECK(lo.contains("127.0.0.1"));
    CHECK(lo.contains("127.255.255.255"));
    CHECK_FALSE(lo.contains("128.0.0.1"));
    CHECK_FALSE(lo.contains("::1"));
    CHECK_FALSE(lo.contains("not an address"));
    auto ll = *parse_cidr("fe80::/10");
    CHECK(ll.contains("fe80::1"));
    CHECK(ll.contains("febf::1"));
    CHECK_FALSE(ll.contains("fec0::1"));
    CHECK_FALSE(ll.contains("169.254.0.1"));
}

TEST_CASE("an IPv4-mapped address is the IPv4 address it maps", "[cidr]")
{
    struct row {
        const char* label;
        const char* range;
        const char* address;
        bool inside;
    };
    const row rows[] = {
        {"IPv4 range, mapped loopback", "127.0.0.0/8", "::ffff:127.0.0.1", true},
        {"IPv4 range, mapped in hex form", "127.0.0.0/8", "::ffff:7f00:1", true},
        {"IPv4 range, mapped outside", "127.0.0.0/8", "::ffff:192.0.2.1", false},
        {"single IPv4, its mapped form", "192.0.2.1", "::ffff:192.0.2.1", true},
        {"0.0.0.0/8, mapped 0.1.2.3", "0.0.0.0/8", "::ffff:0.1.2.3", true},
        {"mapped range written as IPv6, IPv4 address", "::ffff:127.0.0.0/104", "127.0.0.9", true},
        {"mapped single address, IPv4 address", "::ffff:192.0.2.1", "192.0.2.1", true},
        {"mapped single address, its mapped form", "::ffff:192.0.2.1", "::ffff:192.0.2.1", true},
        {"mapped single address, other IPv4", "::ffff:192.0.2.1", "192.0.2.2", false},
        {"all of IPv6 is not all of IPv4", "::/0", "192.0.2.1", false},
        {"all of IPv6 is not all mapped addresses", "::/0", "::ffff:192.0.2.1", false},
        {"all of IPv6 still holds real IPv6", "::/0", "2001:db8::1", true},
        {"::1 is not mapped", "::1", "::ffff:0.0.0.1", false},
        {"IPv4-compatible form is not mapped", "127.0.0.0/8", "::127.0.0.1", false},
    };
    for (const auto& r : rows) {
        INFO(r.label);
        auto c = parse_cidr(r.range);
        REQUIRE(c);
        CHECK(c->contains(r.address) == r.inside);
    }
    auto mapped = *parse_cidr("::ffff:10.0.0.0/104");
    CHECK_FALSE(mapped.v6);
    CHECK(mapped.prefix == 8);
}
