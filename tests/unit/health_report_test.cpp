// Tests for proto/health_report: the answer to the control verb `health`
// (hosts, failing destinations, 24 hours of activity) that mxwardend
// writes and the CLI and mxwarden-web read.
#include "proto/health_report.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

namespace proto = mxw::proto;
using proto::decode_health_report;
using proto::encode_health_report;

namespace {

proto::health_report sample()
{
    proto::health_report r;
    r.now = 1765000000;
    r.hosts.push_back({"192.0.2.1", {"mx1.example.org", "mx.example.net"}, "dead", "probe", "banner-timeout", 1764999900});
    r.hosts.push_back({"2001:db8::1", {}, "healthy", "delivery", "sent", 1764999000});
    r.hosts.push_back({"192.0.2.9", {"mx9.example.org"}, "unknown", "probe", "", 0});
    r.failing.push_back({"example.org", "all-dead", "192.0.2.1 banner-timeout", 1764999000});
    r.failing.push_back({"broken.example", "servfail", "", 1764998000});
    r.activity.push_back({1764999600, 12, 3, 1});
    r.activity.push_back({1764999900, 0, 0, 1});
    return r;
}

std::string head() { return "health 1 1765000000 300\n"; }

}  // namespace

TEST_CASE("health_report: a report round-trips and reads as documented", "[health_report]")
{
    auto r = sample();
    auto wire = encode_health_report(r);
    CHECK(wire == head() +
                      "host 192.0.2.1 dead probe banner-timeout 1764999900 mx1.example.org mx.example.net\n"
                      "host 2001:db8::1 healthy delivery sent 1764999000\n"
                      "host 192.0.2.9 unknown probe - 0 mx9.example.org\n"
                      "failing example.org all-dead 1764999000 192.0.2.1%20banner-timeout\n"
                      "failing broken.example servfail 1764998000 -\n"
                      "bucket 1764999600 12 3 1\n"
                      "bucket 1764999900 0 0 1\n"
                      "end 3 2 2\n");
    auto back = decode_health_report(wire);
    REQUIRE(back);
    CHECK(*back == r);
    CHECK(decode_health_report(encode_health_report(proto::health_report{})) == proto::health_report{});
}

TEST_CASE("health_report: hostile peer text stays inside its field", "[health_report]")
{
    proto::health_report r;
    r.hosts.push_back({"192.0.2.1",
                       {"-", "evil name\nend 0 0 0", std::string("nul\0byte", 8), "100%", "\xff\xfe"},
                       "dead",
                       "probe",
                       "x y",
                       5});
    r.failing.push_back({"a b.example", "servfail", "line1\r\nfailing x y 0 z", 1});
    auto wire = encode_health_report(r);
    // One line per entry plus head and end, whatever the text held.
    CHECK(std::count(wire.begin(), wire.end(), '\n') == 4);
    CHECK(wire.find(" x%20y 5 %2D evil%20name%0Aend%200%200%200 nul%00byte 100%25 %FF%FE\n") != std::string::npos);
    auto back = decode_health_report(wire);
    REQUIRE(back);
    CHECK(*back == r);
    // Lower-case escapes are read too; a lone "-" is the empty string.
    auto lower = decode_health_report(head() + "host %3a dead probe - 0 %2d\nend 1 0 0\n");
    REQUIRE(lower);
    CHECK(lower->hosts[0].address == ":");
    CHECK(lower->hosts[0].last_outcome.empty());
    CHECK(lower->hosts[0].names == std::vector<std::string>{"-"});
}

TEST_CASE("health_report: every cap, at its value and one past it", "[health_report]")
{
    SECTION("hosts")
    {
        proto::health_report r;
        r.hosts.assign(proto::max_health_hosts, {"192.0.2.1", {}, "dead", "probe", "refused", 1});
        auto wire = encode_health_report(r);
        REQUIRE(decode_health_report(wire));
        r.hosts.emplace_back();
        r.hosts.back() = r.hosts.front();
        CHECK(encode_health_report(r) == wire);  // the one past the cap is dropped
        auto over = wire.substr(0, wire.rfind("end ")) + "host 192.0.2.1 dead probe refused 1\nend 10001 0 0\n";
        CHECK_FALSE(decode_health_report(over));
    }
    SECTION("failing destinations")
    {
        proto::health_report r;
        r.failing.assign(proto::max_health_failing, {"example.org", "timeout", "", 1});
        auto wire = encode_health_report(r);
        REQUIRE(decode_health_report(wire));
        auto over = wire.substr(0, wire.rfind("end ")) + "failing example.org timeout 1 -\nend 0 10001 0\n";
        CHECK_FALSE(decode_health_report(over));
    }
    SECTION("buckets")
    {
        proto::health_report r;
        r.activity.assign(proto::max_health_buckets + 1, {300, 1, 2, 3});
        auto wire = encode_health_report(r);
        auto back = decode_health_report(wire);
        REQUIRE(back);
        CHECK(back->activity.size() == proto::max_health_buckets);
        auto over = wire.substr(0, wire.rfind("end ")) + "bucket 300 1 2 3\nend 0 0 289\n";
        CHECK_FALSE(decode_health_report(over));
    }
    SECTION("names per host")
    {
        proto::health_report r;
        r.hosts.push_back({"192.0.2.1", std::vector<std::string>(proto::max_health_names + 1, "mx.example"), "dead",
                           "probe", "", 0});
        auto back = decode_health_report(encode_health_report(r));
        REQUIRE(back);
        CHECK(back->hosts[0].names.size() == proto::max_health_names);
        std::string nine = "host 192.0.2.1 dead probe - 0";
        for (std::size_t i = 0; i <= proto::max_health_names; ++i)
            nine += " mx.example";
        CHECK_FALSE(decode_health_report(head() + nine + "\nend 1 0 0\n"));
    }
    SECTION("field lengths")
    {
        auto host_with = [](const std::string& address) {
            return head() + "host " + address + " dead probe - 0\nend 1 0 0\n";
        };
        CHECK(decode_health_report(host_with(std::string(proto::max_health_address_bytes, 'a'))));
        CHECK_FALSE(decode_health_report(host_with(std::string(proto::max_health_address_bytes + 1, 'a'))));
        // Escaped bytes count once: 64 "%41" is 64 bytes of field.
        std::string escaped;
        for (std::size_t i = 0; i < proto::max_health_address_bytes; ++i)
            escaped += "%41";
        CHECK(decode_health_report(host_with(escaped)));
        CHECK_FALSE(decode_health_report(host_with(escaped + "A")));

        proto::health_report r;
        r.hosts.push_back({std::string(100, 'a'), {std::string(300, 'n')}, "dead", "probe", std::string(40, 'o'), 0});
        r.failing.push_back({std::string(300, 'd'), std::string(40, 's'), std::string(600, 'x'), 0});
        auto back = decode_health_report(encode_health_report(r));
        REQUIRE(back);
        CHECK(back->hosts[0].address.size() == proto::max_health_address_bytes);
        CHECK(back->hosts[0].names[0].size() == proto::max_health_name_bytes);
        CHECK(back->hosts[0].last_outcome.size() == proto::max_health_token_bytes);
        CHECK(back->failing[0].domain.size() == proto::max_health_name_bytes);
        CHECK(back->failing[0].status.size() == proto::max_health_token_bytes);
        CHECK(back->failing[0].detail.size() == proto::max_health_detail_bytes);
    }
    SECTION("the whole report")
    {
        // 10 000 hosts whose every name byte must be escaped would pass the
        // cap: the encoder keeps what fits, and it still decodes.
        proto::health_report r;
        r.failing.push_back({"example.org", "timeout", "", 1});
        r.hosts.assign(proto::max_health_hosts,
                       {std::string(64, '\n'), std::vector<std::string>(8, std::string(255, ' ')), "dead", "probe",
                        std::string(32, '%'), 1});
        auto wire = encode_health_report(r);
        CHECK(wire.size() <= proto::max_health_report_bytes);
        auto back = decode_health_report(wire);
        REQUIRE(back);
        CHECK(back->failing.size() == 1);
        CHECK(back->hosts.size() < proto::max_health_hosts);
        CHECK(back->hosts.size() > 1000);
        CHECK_FALSE(decode_health_report(std::string(proto::max_health_report_bytes + 1, 'x')));
    }
}

TEST_CASE("health_report: malformed text is refused", "[health_report]")
{
    const std::string ok_host = "host 192.0.2.1 dead probe refused 5\n";
    auto bad = GENERATE_COPY(values<std::string>({
        "",
        "health 1 1765000000 300\n",                        // no end line
        "health 1 1765000000 300\nend 0 0 0",               // no LF after end
        "health 2 1765000000 300\nend 0 0 0\n",             // unknown version
        "health 1 1765000000 0\nend 0 0 0\n",               // bucket seconds out of range
        "health 1 1765000000 86401\nend 0 0 0\n",
        "health 1 -5 300\nend 0 0 0\n",                     // negative time
        "health 1 01765000000 300\nend 0 0 0\n",            // leading zero
        "health 1 1765000000 300\nend 0 0 0\nend 0 0 0\n",  // bytes after the end
        "health 1 1765000000 300\n" + ok_host + "end 0 0 0\n",  // counts differ
        "health 1 1765000000 300\nhost 192.0.2.1 sick probe refused 5\nend 1 0 0\n",     // state
        "health 1 1765000000 300\nhost 192.0.2.1 dead rumour refused 5\nend 1 0 0\n",    // source
        "health 1 1765000000 300\nhost 192.0.2.1 dead probe refused\nend 1 0 0\n",       // short line
        "health 1 1765000000 300\nhost 192.0.2.1  dead probe refused 5\nend 1 0 0\n",    // two spaces
        "health 1 1765000000 300\nhost 192.0.2.1 dead probe refused 5 \nend 1 0 0\n",    // trailing space
        "health 1 1765000000 300\nhost 192.0.2.1\tx dead probe refused 5\nend 1 0 0\n", // control byte
        "health 1 1765000000 300\nhost 192.0.2.1%4 dead probe refused 5\nend 1 0 0\n",  // cut escape
        "health 1 1765000000 300\nhost 192.0.2.1%GG dead probe refused 5\nend 1 0 0\n", // bad escape
        "health 1 1765000000 300\nhost 192.0.2.\xe9 dead probe refused 5\nend 1 0 0\n", // raw 8-bit byte
        "health 1 1765000000 300\nbucket 300 18446744073709551616 0 0\nend 0 0 1\n",    // overflow
        "health 1 1765000000 300\nbucket 300 1 2\nend 0 0 1\n",
        "health 1 1765000000 300\nfailing example.org timeout 1\nend 0 1 0\n",
        "health 1 1765000000 300\nwhatever\nend 0 0 0\n",
        "end 0 0 0\n",
    }));
    CAPTURE(bad);
    CHECK_FALSE(decode_health_report(bad));
}
