// Tests for proto/control_request: the control-socket request line shared
// by mxwardend's control session and the mxwarden CLI.
#include "proto/control_request.hpp"
#include "proto/limits.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>

using mxw::proto::control_request;
using mxw::proto::encode_control_request;
using mxw::proto::parse_control_request;
using verb = mxw::proto::control_request::verb;
namespace proto = mxw::proto;

TEST_CASE("control_request: every request, with and without json", "[control]")
{
    struct ok_case {
        const char* line;
        control_request want;
    };
    auto c = GENERATE(values<ok_case>({
        {"ping\n", {verb::ping, "", false}},
        {"ping json\n", {verb::ping, "", true}},
        {"status", {verb::status, "", false}},
        {"status json\r\n", {verb::status, "", true}},
        {"route example.org\n", {verb::route, "example.org", false}},
        {"  route\texample.org   json \r\n", {verb::route, "example.org", true}},
        {"check sender a@example.org\n", {verb::check_sender, "a@example.org", false}},
        {"check client 192.0.2.7 json\n", {verb::check_client, "192.0.2.7", true}},
        // "json" in the subject's place is the subject: position decides.
        {"check sender json\n", {verb::check_sender, "json", false}},
        {"route json json\n", {verb::route, "json", true}},
        {"route \xc3\xa9xample.org\n", {verb::route, "\xc3\xa9xample.org", false}},
        {"health\n", {verb::health, "", false}},
        {" health \r\n", {verb::health, "", false}},
    }));
    INFO(c.line);
    auto got = parse_control_request(c.line);
    REQUIRE(got);
    CHECK(*got == c.want);
    CHECK(parse_control_request(encode_control_request(*got)) == got);
}

TEST_CASE("control_request: what is not a request", "[control]")
{
    auto line = GENERATE(as<std::string>{}, "", "\n", "  \r\n", "pong\n", "PING\n", "status now\n", "route\n",
                         "route a b\n", "route a json json\n", "check sender\n", "check other x\n",
                         "check sender a b\n", "route a\x01z\n", "route a\nroute b\n", std::string("route a\0b", 9),
                         "route a\x7f\n", "health json\n", "health example.org\n");
    INFO(line);
    CHECK_FALSE(parse_control_request(line));
}

TEST_CASE("control_request: health has no JSON form", "[control]")
{
    // The answer is always proto/health_report's text; asking for JSON
    // sends the plain request rather than one the daemon refuses.
    CHECK(encode_control_request({verb::health, "", true}) == "health\n");
}

TEST_CASE("control_request: line length at the limit and one past it", "[control]")
{
    std::string at = "route " + std::string(proto::max_control_line_bytes - 7, 'a') + "\n";
    REQUIRE(at.size() == proto::max_control_line_bytes);
    CHECK(parse_control_request(at));
    CHECK_FALSE(parse_control_request("route " + std::string(proto::max_control_line_bytes - 6, 'a') + "\n"));
}

TEST_CASE("control_request: subjects the CLI may send", "[control]")
{
    CHECK(proto::control_subject_ok("a@example.org"));
    CHECK_FALSE(proto::control_subject_ok(""));
    CHECK_FALSE(proto::control_subject_ok("a b"));
    CHECK_FALSE(proto::control_subject_ok("a\nb"));
    CHECK_FALSE(proto::control_subject_ok(std::string(proto::max_control_line_bytes, 'a')));
    // The longest subject it allows still makes a line the daemon takes.
    std::string longest(proto::max_control_line_bytes, 'a');
    while (!proto::control_subject_ok(longest))
        longest.pop_back();
    control_request r{verb::check_sender, longest, true};
    CHECK(parse_control_request(encode_control_request(r)) == r);
}

TEST_CASE("control_request: the LF counts toward the limit even when cut off", "[control]")
{
    // What the daemon could never read whole must not parse here either, or
    // its encoding (which adds the LF) would not fit.
    std::string no_lf = "route " + std::string(proto::max_control_line_bytes - 6, 'a');
    REQUIRE(no_lf.size() == proto::max_control_line_bytes);
    CHECK_FALSE(parse_control_request(no_lf));
    no_lf.pop_back();
    CHECK(parse_control_request(no_lf));
}
