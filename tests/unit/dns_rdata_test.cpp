// Tests for proto/dns_rdata: names and RDATA as libunbound returns them, and
// the address helpers. The name limits of RFC 1035 §3.1 (63-byte labels,
// 255-byte names, counted in wire octets) are tested at the limit and one
// past it; every truncation of a valid name must be refused.
#include "proto/dns_rdata.hpp"
#include "proto/limits.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

using namespace std::string_literals;
namespace proto = mxw::proto;

namespace {

using bytes = std::vector<std::uint8_t>;

// Wire form of a name: each label with its length octet, then the root.
bytes wire(std::initializer_list<std::string_view> labels)
{
    bytes out;
    for (auto l : labels) {
        out.push_back(static_cast<std::uint8_t>(l.size()));
        out.insert(out.end(), l.begin(), l.end());
    }
    out.push_back(0);
    return out;
}

bytes cat(bytes a, const bytes& b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

std::string label(std::size_t n, char c) { return std::string(n, c); }

}  // namespace

TEST_CASE("parse_dns_name accepts names and writes their presentation form", "[dns_rdata]")
{
    struct tcase {
        const char* label;
        bytes in;
        std::string want;
    };
    auto c = GENERATE(values<tcase>({
        {"root", {0}, ""},
        {"normal", wire({"mail", "example", "org"}), "mail.example.org"},
        {"upper case is folded", wire({"MAIL", "Example", "ORG"}), "mail.example.org"},
        {"digits, hyphen and underscore are plain", wire({"_25", "_tcp", "mx-1", "example"}),
         "_25._tcp.mx-1.example"},
        {"a dot inside a label is escaped", wire({"a.b", "org"}), "a\\046b.org"},
        {"space and backslash are escaped", wire({"a b\\"}), "a\\032b\\092"},
        {"NUL, DEL and high bytes are escaped", wire({"\0\x7f\xff"s}), "\\000\\127\\255"},
        {"escaping happens after case folding", wire({"A\xc9"}), "a\\201"},
    }));
    INFO(c.label);
    auto got = proto::parse_dns_name(c.in);
    REQUIRE(got.has_value());
    CHECK(*got == c.want);
}

TEST_CASE("parse_dns_name refuses malformed wire names", "[dns_rdata]")
{
    struct tcase {
        const char* label;
        bytes in;
    };
    auto c = GENERATE(values<tcase>({
        {"empty input", {}},
        {"label overruns the data", {5, 'a', 'b', 0}},
        {"missing root label", {3, 'o', 'r', 'g'}},
        {"compression pointer at the start", {0xc0, 0x0c}},
        {"compression pointer after a label", {3, 'w', 'w', 'w', 0xc0, 0x0c}},
        {"extended label type 01", {0x41, 'a', 0}},
        {"trailing byte after the root", cat(wire({"example", "org"}), {0})},
        {"trailing garbage", cat(wire({"org"}), {'x', 'y'})},
    }));
    INFO(c.label);
    CHECK_FALSE(proto::parse_dns_name(c.in).has_value());
}

TEST_CASE("label length limit: 63 ok, 64 refused", "[dns_rdata][limits]")
{
    constexpr auto max = proto::max_dns_label_bytes;
    auto ok = proto::parse_dns_name(wire({label(max, 'a'), "org"}));
    REQUIRE(ok.has_value());
    CHECK(*ok == label(max, 'a') + ".org");
    CHECK_FALSE(proto::parse_dns_name(wire({label(max + 1, 'a'), "org"})).has_value());
}

TEST_CASE("name length limit: 255 wire octets ok, 256 refused", "[dns_rdata][limits][regression]")
{
    // Three 63-byte labels take 3*64 octets; a last label of n bytes adds
    // n+1 and the root one more, so n = 61 makes exactly 255.
    auto name = [](std::size_t last) {
        return wire({label(63, 'a'), label(63, 'b'), label(63, 'c'), label(last, 'd')});
    };
    constexpr auto max = proto::max_dns_name_bytes;
    REQUIRE(name(61).size() == max);
    auto ok = proto::parse_dns_name(name(61));
    REQUIRE(ok.has_value());
    CHECK(ok->size() == 63 * 3 + 61 + 3);

    REQUIRE(name(62).size() == max + 1);
    CHECK_FALSE(proto::parse_dns_name(name(62)).has_value());
    REQUIRE(name(63).size() == max + 2);
    CHECK_FALSE(proto::parse_dns_name(name(63)).has_value());
}

TEST_CASE("parse_dns_name refuses every truncation of a valid name", "[dns_rdata]")
{
    auto full =
        GENERATE(as<bytes>{}, wire({"mail", "example", "org"}), wire({label(63, 'x'), "a"}), wire({"a.b", "c"}));
    REQUIRE(proto::parse_dns_name(full).has_value());
    for (std::size_t cut = 0; cut < full.size(); ++cut) {
        INFO("cut at " << cut);
        CHECK_FALSE(proto::parse_dns_name(std::span(full).first(cut)).has_value());
    }
}

TEST_CASE("parse_mx_rdata reads preference and exchange", "[dns_rdata]")
{
    struct tcase {
        const char* label;
        bytes in;
        std::optional<proto::mx_rdata> want;
    };
    auto c = GENERATE(values<tcase>({
        {"normal", cat({0, 10}, wire({"mx1", "example", "org"})), proto::mx_rdata{10, "mx1.example.org"}},
        {"preference is big-endian", cat({0x01, 0x02}, wire({"mx"})), proto::mx_rdata{0x0102, "mx"}},
        {"highest preference", cat({0xff, 0xff}, wire({"mx"})), proto::mx_rdata{0xffff, "mx"}},
        {"null MX \"0 .\" (RFC 7505)", {0, 0, 0}, proto::mx_rdata{0, ""}},
        {"empty", {}, std::nullopt},
        {"preference only", {0, 10}, std::nullopt},
        {"one byte", {0}, std::nullopt},
        {"truncated exchange", {0, 10, 3, 'm', 'x'}, std::nullopt},
        {"exchange with trailing byte", cat({0, 10}, cat(wire({"mx"}), {0})), std::nullopt},
        {"compressed exchange", {0, 10, 0xc0, 0x0c}, std::nullopt},
    }));
    INFO(c.label);
    CHECK(proto::parse_mx_rdata(c.in) == c.want);
}

TEST_CASE("parse_address_rdata takes exactly 4 or 16 bytes", "[dns_rdata]")
{
    struct tcase {
        const char* label;
        bytes in;
        std::optional<std::string> want;
    };
    auto c = GENERATE(values<tcase>({
        {"A", {192, 0, 2, 7}, "192.0.2.7"},
        {"AAAA", {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, "2001:db8::1"},
        {"AAAA v4-mapped", {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4}, "::ffff:1.2.3.4"},
        {"empty", {}, std::nullopt},
        {"3 bytes", {1, 2, 3}, std::nullopt},
        {"5 bytes", {1, 2, 3, 4, 5}, std::nullopt},
        {"15 bytes", bytes(15, 1), std::nullopt},
        {"17 bytes", bytes(17, 1), std::nullopt},
    }));
    INFO(c.label);
    CHECK(proto::parse_address_rdata(c.in) == c.want);
}

TEST_CASE("reverse_name builds in-addr.arpa and ip6.arpa names", "[dns_rdata]")
{
    struct tcase {
        const char* label;
        std::string in;
        std::optional<std::string> want;
    };
    auto c = GENERATE(values<tcase>({
        {"IPv4", "192.0.2.7", "7.2.0.192.in-addr.arpa"},
        {"IPv4 zeros", "10.0.0.0", "0.0.0.10.in-addr.arpa"},
        {"IPv6, nibbles low first", "2001:db8::1",
         "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"},
        {"IPv6 upper case", "2001:DB8::ABCD",
         "d.c.b.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"},
        {"empty", "", std::nullopt},
        {"hostname", "mail.example.org", std::nullopt},
        {"short IPv4", "192.0.2", std::nullopt},
        {"IPv4 octet too big", "192.0.2.256", std::nullopt},
        {"trailing space", "192.0.2.7 ", std::nullopt},
        {"bracketed IPv6", "[::1]", std::nullopt},
        {"IPv6 with zone", "fe80::1%eth0", std::nullopt},
    }));
    INFO(c.label);
    CHECK(proto::reverse_name(c.in) == c.want);
}

TEST_CASE("canonical_address gives one text form per address", "[dns_rdata]")
{
    struct tcase {
        const char* label;
        std::string in;
        std::optional<std::string> want;
    };
    auto c = GENERATE(values<tcase>({
        {"IPv4 unchanged", "192.0.2.7", "192.0.2.7"},
        {"v4-mapped upper case", "::FFFF:1.2.3.4", "::ffff:1.2.3.4"},
        {"IPv6 zeros compressed", "2001:DB8:0:0:0:0:0:1", "2001:db8::1"},
        {"IPv6 leading zeros dropped", "2001:0db8::0001", "2001:db8::1"},
        {"loopback", "0:0:0:0:0:0:0:1", "::1"},
        {"empty", "", std::nullopt},
        {"hostname", "localhost", std::nullopt},
        {"bracketed", "[::1]", std::nullopt},
        {"IPv4 with port", "192.0.2.7:25", std::nullopt},
    }));
    INFO(c.label);
    CHECK(proto::canonical_address(c.in) == c.want);
}

TEST_CASE("text with an embedded NUL is no address", "[dns_rdata][regression]")
{
    // inet_pton() sees only the text before the NUL, so without a check
    // "192.0.2.7<NUL>junk" passes as 192.0.2.7.
    const std::string in = "192.0.2.7\0junk"s;
    CHECK_FALSE(proto::canonical_address(in).has_value());
    CHECK_FALSE(proto::reverse_name(in).has_value());
    CHECK_FALSE(proto::canonical_address("::1\0"s).has_value());
}
