// Tests for proto/dns_filter_key: the resource records Postfix's
// smtp_dns_reply_filter sends to the dnsfilter map. A key read wrongly
// could drop the wrong MX or address, so the tables hold near misses of
// the Postfix format next to its real output.
#include "proto/dns_filter_key.hpp"
#include "proto/limits.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace std::string_literals;
namespace proto = mxw::proto;
using type = proto::dns_filter_type;

TEST_CASE("parse_dns_filter_key decodes the records Postfix sends", "[dns_filter_key]")
{
    struct tcase {
        const char* label;
        std::string in;
        proto::dns_filter_record want;
    };
    auto c = GENERATE(values<tcase>({
        {"MX", "example.com. 300 IN MX 10 mx1.example.com.", {"example.com", 300, type::mx, 10, "mx1.example.com"}},
        {"null MX", "example.com. 3600 IN MX 0 .", {"example.com", 3600, type::mx, 0, ""}},
        {"MX preference 65535", "example.com. 1 IN MX 65535 mx.example.net.",
         {"example.com", 1, type::mx, 65535, "mx.example.net"}},
        {"names are lower-cased", "Example.COM. 300 IN MX 5 MX1.Example.Com.",
         {"example.com", 300, type::mx, 5, "mx1.example.com"}},
        {"A", "mx1.example.com. 300 IN A 192.0.2.1", {"mx1.example.com", 300, type::a, 0, "192.0.2.1"}},
        {"AAAA", "mx1.example.com. 300 IN AAAA 2001:db8::1", {"mx1.example.com", 300, type::aaaa, 0, "2001:db8::1"}},
        {"AAAA is canonicalised", "mx1.example.com. 300 IN AAAA 2001:DB8:0:0::1",
         {"mx1.example.com", 300, type::aaaa, 0, "2001:db8::1"}},
        {"v4-mapped AAAA", "mx1.example.com. 300 IN AAAA ::ffff:192.0.2.1",
         {"mx1.example.com", 300, type::aaaa, 0, "::ffff:192.0.2.1"}},
        {"TTL 0", "mx1.example.com. 0 IN A 192.0.2.1", {"mx1.example.com", 0, type::a, 0, "192.0.2.1"}},
        {"largest TTL", "mx1.example.com. 4294967295 IN A 192.0.2.1",
         {"mx1.example.com", 4294967295u, type::a, 0, "192.0.2.1"}},
        {"TLSA data is not examined", "_25._tcp.mx1.example.com. 300 IN TLSA 3 1 1 0123abcd",
         {"_25._tcp.mx1.example.com", 300, type::tlsa, 0, ""}},
        {"CNAME is another type", "www.example.com. 300 IN CNAME example.com.",
         {"www.example.com", 300, type::other, 0, ""}},
        {"root owner", ". 300 IN MX 0 .", {"", 300, type::mx, 0, ""}},
        {"escaped label kept as text", "a\\046b.example.com. 300 IN A 192.0.2.1",
         {"a\\046b.example.com", 300, type::a, 0, "192.0.2.1"}},
    }));
    INFO(c.label);
    auto got = proto::parse_dns_filter_key(c.in);
    REQUIRE(got.has_value());
    CHECK(*got == c.want);
}

TEST_CASE("parse_dns_filter_key refuses what Postfix does not send", "[dns_filter_key]")
{
    struct tcase {
        const char* label;
        std::string in;
    };
    auto c = GENERATE(values<tcase>({
        {"empty", ""},
        {"owner only", "example.com."},
        {"no type", "example.com. 300 IN"},
        {"owner without final dot", "example.com 300 IN MX 10 mx1.example.com."},
        {"exchange without final dot", "example.com. 300 IN MX 10 mx1.example.com"},
        {"empty label", "example..com. 300 IN MX 10 mx1.example.com."},
        {"leading dot", ".example.com. 300 IN MX 10 mx1.example.com."},
        {"class CH", "example.com. 300 CH MX 10 mx1.example.com."},
        {"class in lower case", "example.com. 300 in MX 10 mx1.example.com."},
        {"TTL past 2^32-1", "mx1.example.com. 4294967296 IN A 192.0.2.1"},
        {"negative TTL", "mx1.example.com. -1 IN A 192.0.2.1"},
        {"hex TTL", "mx1.example.com. 0x10 IN A 192.0.2.1"},
        {"MX preference past 65535", "example.com. 300 IN MX 65536 mx1.example.com."},
        {"MX without preference", "example.com. 300 IN MX mx1.example.com."},
        {"MX with an extra field", "example.com. 300 IN MX 10 mx1.example.com. x"},
        {"A with an IPv6 address", "mx1.example.com. 300 IN A 2001:db8::1"},
        {"AAAA with an IPv4 address", "mx1.example.com. 300 IN AAAA 192.0.2.1"},
        {"A not an address", "mx1.example.com. 300 IN A 192.0.2"},
        {"A with an extra field", "mx1.example.com. 300 IN A 192.0.2.1 192.0.2.2"},
        {"A without address", "mx1.example.com. 300 IN A"},
        {"two spaces", "mx1.example.com.  300 IN A 192.0.2.1"},
        {"leading space", " mx1.example.com. 300 IN A 192.0.2.1"},
        {"trailing space", "mx1.example.com. 300 IN A 192.0.2.1 "},
        {"tab", "mx1.example.com.\t300 IN A 192.0.2.1"},
        {"CR LF", "mx1.example.com. 300 IN A 192.0.2.1\r\n"},
        {"embedded NUL", "mx1.example.com. 300 IN A 192.0.2.1\0"s},
        {"8-bit byte", "m\xc3\xa9.example.com. 300 IN A 192.0.2.1"},
        {"owner over 255 bytes", std::string(256, 'a') + ". 300 IN A 192.0.2.1"},
    }));
    INFO(c.label);
    CHECK_FALSE(proto::parse_dns_filter_key(c.in).has_value());
}

TEST_CASE("parse_dns_filter_key: a name of 255 bytes is the longest", "[dns_filter_key]")
{
    std::string name(proto::max_dns_name_bytes, 'a');
    auto got = proto::parse_dns_filter_key(name + ". 300 IN A 192.0.2.1");
    REQUIRE(got.has_value());
    CHECK(got->owner == name);
}

TEST_CASE("parse_dns_filter_key: keys up to max_dns_filter_key_bytes", "[dns_filter_key][limits]")
{
    std::string head = "_25._tcp.mx1.example.com. 300 IN TLSA 3 0 1 ";
    std::string at_limit = head + std::string(proto::max_dns_filter_key_bytes - head.size(), 'a');
    REQUIRE(at_limit.size() == proto::max_dns_filter_key_bytes);
    auto got = proto::parse_dns_filter_key(at_limit);
    REQUIRE(got.has_value());
    CHECK(got->type == type::tlsa);
    CHECK_FALSE(proto::parse_dns_filter_key(at_limit + "a").has_value());
}

TEST_CASE("parse_dns_filter_key: truncated keys", "[dns_filter_key]")
{
    // The socketmap framing delivers whole keys; still, a cut key must be
    // refused unless it ends inside the type (some other type, kept) or
    // just after a label's dot, where it is a complete, shorter name.
    std::string key = GENERATE("example.com. 300 IN MX 10 mx1.example.com."s, "mx1.example.com. 300 IN A 192.0.2.1"s);
    for (std::size_t n = 0; n < key.size(); ++n) {
        std::string cut = key.substr(0, n);
        INFO(cut);
        auto got = proto::parse_dns_filter_key(cut);
        if (got)
            CHECK((got->type == type::other || (got->type == type::mx && cut.back() == '.')));
    }
}
