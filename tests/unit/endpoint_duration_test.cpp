// Tests for proto/endpoint (Postfix-style "inet:HOST:PORT" / "unix:PATH"
// listener notation and libunbound forwarder syntax) and base/duration.
// Both read operator input at startup; a value that parses wrongly would
// put the daemon on the wrong socket or give it a silly timeout, so the
// tables concentrate on near misses.
#include "base/duration.hpp"
#include "proto/endpoint.hpp"
#include "proto/nexthop.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

using namespace std::string_literals;
using namespace std::chrono_literals;
namespace proto = mxw::proto;
using kind = proto::endpoint::kind;

namespace {

proto::endpoint inet(std::string host, std::uint16_t port) { return {kind::inet, std::move(host), port, ""}; }
proto::endpoint unix_path(std::string path) { return {kind::unix_socket, "", 0, std::move(path)}; }

}  // namespace

TEST_CASE("parse_endpoint accepts IP literals and unix paths", "[endpoint]")
{
    struct tcase {
        const char* label;
        std::string in;
        proto::endpoint want;
        std::string canonical;  // what to_string gives back
    };
    auto c = GENERATE(values<tcase>({
        {"inet IPv4", "inet:127.0.0.1:10040", inet("127.0.0.1", 10040), "inet:127.0.0.1:10040"},
        {"inet [IPv6]", "inet:[::1]:10040", inet("::1", 10040), "inet:[::1]:10040"},
        {"IPv6 is canonicalised", "inet:[2001:DB8:0::1]:25", inet("2001:db8::1", 25), "inet:[2001:db8::1]:25"},
        {"v4-mapped IPv6", "inet:[::ffff:192.0.2.1]:25", inet("::ffff:192.0.2.1", 25), "inet:[::ffff:192.0.2.1]:25"},
        {"lowest port", "inet:0.0.0.0:1", inet("0.0.0.0", 1), "inet:0.0.0.0:1"},
        {"highest port", "inet:0.0.0.0:65535", inet("0.0.0.0", 65535), "inet:0.0.0.0:65535"},
        {"unix absolute", "unix:/run/mxwarden/policy.sock", unix_path("/run/mxwarden/policy.sock"),
         "unix:/run/mxwarden/policy.sock"},
        {"unix relative stays relative", "unix:var/control.sock", unix_path("var/control.sock"),
         "unix:var/control.sock"},
        {"unix path may hold ':'", "unix:/tmp/a:b", unix_path("/tmp/a:b"), "unix:/tmp/a:b"},
    }));
    INFO(c.label);
    auto got = proto::parse_endpoint(c.in);
    REQUIRE(got.has_value());
    CHECK(*got == c.want);
    CHECK(proto::to_string(*got) == c.canonical);
    // The round trip the daemon relies on when it prints its config.
    CHECK(proto::parse_endpoint(proto::to_string(*got)) == got);
}

TEST_CASE("parse_endpoint refuses everything else", "[endpoint]")
{
    struct tcase {
        const char* label;
        std::string in;
    };
    auto c = GENERATE(values<tcase>({
        {"empty", ""},
        {"no type", "127.0.0.1:10040"},
        {"unknown type", "tcp:127.0.0.1:10040"},
        {"type is case-sensitive", "INET:127.0.0.1:10040"},
        {"missing port", "inet:127.0.0.1"},
        {"empty port", "inet:127.0.0.1:"},
        {"port 0", "inet:127.0.0.1:0"},
        {"port 65536", "inet:127.0.0.1:65536"},
        {"port overflowing 32 bits", "inet:127.0.0.1:4294967321"},
        {"port with sign", "inet:127.0.0.1:+25"},
        {"negative port", "inet:127.0.0.1:-1"},
        {"port with space", "inet:127.0.0.1: 25"},
        {"port with trailing text", "inet:127.0.0.1:25x"},
        {"service name as port", "inet:127.0.0.1:smtp"},
        {"hostname", "inet:localhost:10040"},
        {"domain name", "inet:mail.example.org:25"},
        {"empty host", "inet::25"},
        {"[IPv6] without port", "inet:[::1]"},
        {"unclosed bracket", "inet:[::1:25"},
        {"short IPv4", "inet:127.1:25"},
        {"empty unix path", "unix:"},
    }));
    INFO(c.label);
    CHECK_FALSE(proto::parse_endpoint(c.in).has_value());
}

TEST_CASE("valid_forwarder takes IP or IP@port", "[endpoint]")
{
    struct tcase {
        const char* label;
        std::string in;
        bool want;
    };
    auto c = GENERATE(values<tcase>({
        {"IPv4", "192.0.2.53", true},
        {"IPv4 with port", "192.0.2.53@5353", true},
        {"IPv6", "2001:db8::53", true},
        {"IPv6 with port", "::1@53", true},
        {"empty", "", false},
        {"port only", "@53", false},
        {"empty port", "192.0.2.53@", false},
        {"port 0", "192.0.2.53@0", false},
        {"port 65536", "192.0.2.53@65536", false},
        {"two ports", "192.0.2.53@53@53", false},
        {"colon port is not unbound's syntax", "192.0.2.53:53", false},
        {"bracketed IPv6", "[::1]@53", false},
        {"hostname", "dns.example.org", false},
        {"trailing space", "192.0.2.53 ", false},
    }));
    INFO(c.label);
    CHECK(proto::valid_forwarder(c.in) == c.want);
}

TEST_CASE("an endpoint or forwarder with an embedded NUL is refused", "[endpoint][regression]")
{
    // The host goes to inet_pton() as a C string, which stops at the NUL:
    // "127.0.0.1<NUL>junk" would bind 127.0.0.1 although it is no IP literal.
    CHECK_FALSE(proto::parse_endpoint("inet:127.0.0.1\0junk:25"s).has_value());
    CHECK_FALSE(proto::parse_endpoint("inet:[::1\0junk]:25"s).has_value());
    CHECK_FALSE(proto::valid_forwarder("192.0.2.53\0junk"s));
    CHECK_FALSE(proto::valid_forwarder("192.0.2.53\0@53"s));
}

TEST_CASE("parse_duration reads a number and a unit", "[duration]")
{
    struct tcase {
        const char* label;
        std::string in;
        std::optional<std::chrono::milliseconds> want;
    };
    auto c = GENERATE(values<tcase>({
        {"milliseconds", "500ms", 500ms},
        {"seconds", "4s", 4s},
        {"bare number is seconds", "4", 4s},
        {"minutes", "5m", 5min},
        {"hours", "1h", 1h},
        {"days", "30d", std::chrono::hours(24 * 30)},
        {"zero parses (the config rejects it)", "0", 0ms},
        {"leading zeros", "007s", 7s},
        {"ten years in days", "3650d", std::chrono::hours(24 * 3650)},
        {"ten years in ms", "315360000000ms", 315360000000ms},
        {"empty", "", std::nullopt},
        {"unit only", "s", std::nullopt},
        {"negative", "-1s", std::nullopt},
        {"plus sign", "+1s", std::nullopt},
        {"fraction", "1.5s", std::nullopt},
        {"exponent", "1e3", std::nullopt},
        {"space before unit", "4 s", std::nullopt},
        {"leading space", " 4s", std::nullopt},
        {"trailing space", "4s ", std::nullopt},
        {"unit is case-sensitive", "4S", std::nullopt},
        {"long unit name", "4sec", std::nullopt},
        {"unknown unit", "4w", std::nullopt},
        {"two units", "1h30m", std::nullopt},
        {"words", "forever", std::nullopt},
        {"past ten years in days", "3651d", std::nullopt},
        {"past ten years in ms", "315360000001ms", std::nullopt},
        {"overflow after multiplying", "18446744073709551615d", std::nullopt},
        {"overflow of the number", "99999999999999999999999s", std::nullopt},
    }));
    INFO(c.label);
    CHECK(mxw::base::parse_duration(c.in) == c.want);
}

TEST_CASE("parse_smarthost takes the forms admins write", "[smarthost]")
{
    using mxw::proto::parse_smarthost;
    using mxw::proto::smarthost;
    CHECK(parse_smarthost("relay.example.net") == smarthost{"relay.example.net", 25});
    CHECK(parse_smarthost("Relay.Example.NET:587") == smarthost{"relay.example.net", 587});
    CHECK(parse_smarthost("[relay.example.net]:587") == smarthost{"relay.example.net", 587});
    CHECK(parse_smarthost("[relay.example.net]") == smarthost{"relay.example.net", 25});
    CHECK(parse_smarthost("192.0.2.7:2525") == smarthost{"192.0.2.7", 2525});
    CHECK(parse_smarthost("[2001:DB8::7]:587") == smarthost{"2001:db8::7", 587});
    CHECK(parse_smarthost("2001:db8::7") == smarthost{"2001:db8::7", 25});
    CHECK(parse_smarthost("relay:65535") == smarthost{"relay", 65535});
    CHECK(parse_smarthost(std::string(63, 'a') + ".example") == smarthost{std::string(63, 'a') + ".example", 25});
}

TEST_CASE("parse_smarthost refuses what Postfix could not use", "[smarthost]")
{
    using mxw::proto::parse_smarthost;
    for (const std::string& bad : std::vector<std::string>{"", ":25", "relay:", "relay:0", "relay:65536", "relay:025", "relay:x", "[relay", "[relay]x",
                            "[relay]:", "relay..example", ".relay", "relay.", "re lay", "relay/x", "[2001:db8::7",
                            "2001:db8::7:587x", std::string(64, 'a') + ".example", std::string(254, 'a')}) {
        INFO(bad);
        CHECK_FALSE(parse_smarthost(bad));
    }
}
