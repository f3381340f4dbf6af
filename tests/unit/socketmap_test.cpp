// Tests for proto/socketmap: request parsing, reply encoding and parsing, and
// the two socketmap limits, each at its value and one past it, framed with
// the netstring decoder as the session and the CLI use it.
#include "proto/errors.hpp"
#include "proto/limits.hpp"
#include "proto/netstring.hpp"
#include "proto/socketmap.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <string_view>

using namespace std::string_literals;
using mxw::proto::netstring_decoder;
using mxw::proto::proto_errc;
using mxw::proto::socketmap_reply;
using mxw::proto::socketmap_request;
using mxw::proto::socketmap_status;
using mxw::proto::step;
namespace proto = mxw::proto;

namespace {

// The payload of one complete netstring, or nullopt; `max` as the reader
// that would receive it uses.
std::optional<std::string> unframe(std::string_view wire, std::size_t max)
{
    netstring_decoder d(max);
    if (d.feed(wire) != step::frame || d.consumed() != wire.size())
        return std::nullopt;
    return std::string(d.payload());
}

// What Postfix's dict_sockmap would receive: the reply payload, read with
// its own 100000-byte limit.
std::optional<std::string> as_postfix_reads(std::string_view wire)
{
    return unframe(wire, proto::max_socketmap_reply_bytes);
}

}  // namespace

TEST_CASE("socketmap requests as Postfix and Sendmail send them parse", "[socketmap]")
{
    struct tcase {
        const char* label;
        std::string payload;
        socketmap_request want;
    };
    auto c = GENERATE(values<tcase>({
        {"Postfix transport_maps: the full address", "transport user+ext@example.com",
         {"transport", "user+ext@example.com"}},
        {"Postfix transport_maps: the quoted external form", "transport \"a b\"@example.com",
         {"transport", "\"a b\"@example.com"}},
        {"Postfix transport_maps: the wildcard", "transport *", {"transport", "*"}},
        {"Postfix smtp_tls_policy_maps: a next hop verbatim", "tls [192.0.2.7]:25", {"tls", "[192.0.2.7]:25"}},
        {"Postfix IPv6 next hop", "tls [2001:db8::7]:25", {"tls", "[2001:db8::7]:25"}},
        {"Postfix null sender lookup key", "relay <>", {"relay", "<>"}},
        {"Sendmail mailertable: the host", "mailertable host.example.com", {"mailertable", "host.example.com"}},
        {"Sendmail mailertable: a parent", "mailertable .example.com", {"mailertable", ".example.com"}},
        {"Sendmail mailertable: the root", "mailertable .", {"mailertable", "."}},
        {"no case folding", "Transport User@Example.COM", {"Transport", "User@Example.COM"}},
        {"map name characters", "my_map.v2-test x", {"my_map.v2-test", "x"}},
        {"a key holds spaces", "relay a b  c ", {"relay", "a b  c "}},
        {"a key may start with a space", "transport  x", {"transport", " x"}},
        {"CR and LF in a key are kept", "transport a\r\nb", {"transport", "a\r\nb"}},
        {"non-ASCII key bytes are kept", "transport \xc3\xa9@\xff", {"transport", "\xc3\xa9@\xff"}},
    }));
    INFO(c.label);
    std::error_code ec = proto_errc::nul_byte;  // must be cleared
    auto r = proto::parse_socketmap_request(c.payload, ec);
    REQUIRE(r);
    CHECK(*r == c.want);
    CHECK(!ec);
    CHECK(proto::parse_socketmap_request(c.payload) == r);
}

TEST_CASE("malformed socketmap requests fail with the documented error", "[socketmap]")
{
    struct tcase {
        const char* label;
        std::string payload;
        proto_errc want;
    };
    auto c = GENERATE(values<tcase>({
        {"empty payload", "", proto_errc::socketmap_bad_map_name},
        {"a leading space", " transport x", proto_errc::socketmap_bad_map_name},
        {"only a space", " ", proto_errc::socketmap_bad_map_name},
        {"a slash in the map name", "trans/port x", proto_errc::socketmap_bad_map_name},
        {"a colon in the map name", "socketmap:transport x", proto_errc::socketmap_bad_map_name},
        {"a tab instead of a space", "transport\tx", proto_errc::socketmap_bad_map_name},
        {"LF instead of a space", "transport\nx", proto_errc::socketmap_bad_map_name},
        {"NUL in the map name", "trans\0port x"s, proto_errc::socketmap_bad_map_name},
        {"non-ASCII in the map name", "tr\xc3\xa4nsport x", proto_errc::socketmap_bad_map_name},
        {"no key", "transport", proto_errc::socketmap_empty_key},
        {"an empty key", "transport ", proto_errc::socketmap_empty_key},
        {"NUL in the key", "transport a\0b"s, proto_errc::socketmap_nul_in_key},
        {"NUL as the key", "transport \0"s, proto_errc::socketmap_nul_in_key},
    }));
    INFO(c.label);
    std::error_code ec;
    CHECK(!proto::parse_socketmap_request(c.payload, ec));
    CHECK(ec == c.want);
    CHECK(!proto::parse_socketmap_request(c.payload));
}

TEST_CASE("socketmap request size limit: at the limit ok, one past fails", "[socketmap][limits]")
{
    constexpr auto max = proto::max_socketmap_request_bytes;
    std::string at_limit = "transport " + std::string(max - 10, 'k');
    REQUIRE(at_limit.size() == max);
    auto payload = unframe(proto::encode_netstring(at_limit), max);
    REQUIRE(payload);
    auto req = proto::parse_socketmap_request(*payload);
    REQUIRE(req);
    CHECK(req->key.size() == max - 10);

    netstring_decoder d(max);
    CHECK(d.feed(proto::encode_netstring(at_limit + "k")) == step::error);
    CHECK(d.error() == proto_errc::netstring_too_long);
}

TEST_CASE("encode_socketmap_request writes what Postfix writes and round-trips", "[socketmap][encode]")
{
    CHECK(proto::encode_socketmap_request({"transport", "*"}) == "11:transport *,");
    CHECK(proto::encode_socketmap_request({"mailertable", ".example.com"}) == "24:mailertable .example.com,");

    auto req = GENERATE(as<socketmap_request>{}, socketmap_request{"transport", "user+ext@example.com"},
                        socketmap_request{"relay", " a b "}, socketmap_request{"tls", "[2001:db8::7]:25"},
                        socketmap_request{"x", "\r\n\xff"});
    auto payload = unframe(proto::encode_socketmap_request(req), proto::max_socketmap_request_bytes);
    REQUIRE(payload);
    CHECK(proto::parse_socketmap_request(*payload) == req);
}

TEST_CASE("encode_socketmap_reply writes each status as Postfix expects", "[socketmap][encode]")
{
    struct tcase {
        const char* label;
        socketmap_status st;
        std::string data;
        std::string want;
    };
    auto c = GENERATE(values<tcase>({
        {"a route", socketmap_status::ok, "smtp:[192.0.2.7]:25", "22:OK smtp:[192.0.2.7]:25,"},
        {"a route list", socketmap_status::ok, "mxw:[192.0.2.7]:25, [192.0.2.8]:25",
         "37:OK mxw:[192.0.2.7]:25, [192.0.2.8]:25,"},
        {"an empty value (transport: no change)", socketmap_status::ok, "", "3:OK ,"},
        {"not found, with its trailing space", socketmap_status::notfound, "", "9:NOTFOUND ,"},
        {"not found ignores data", socketmap_status::notfound, "ignored", "9:NOTFOUND ,"},
        {"a temporary error", socketmap_status::temp, "dns servfail", "17:TEMP dns servfail,"},
        {"a temporary error without reason", socketmap_status::temp, "", "5:TEMP ,"},
        {"a timeout", socketmap_status::timeout, "budget", "14:TIMEOUT budget,"},
        {"a permanent error", socketmap_status::perm, "unknown map", "16:PERM unknown map,"},
        {"CRLF in a value", socketmap_status::ok, "a\r\nb", "7:OK a  b,"},
        {"NUL in a reason", socketmap_status::perm, "a\0b"s, "8:PERM a b,"},
        {"non-ASCII kept", socketmap_status::temp, "\xc3\xa9", "7:TEMP \xc3\xa9,"},
    }));
    INFO(c.label);
    CHECK(proto::encode_socketmap_reply(c.st, c.data) == c.want);
}

TEST_CASE("socketmap reply size limit: at the limit ok, one past becomes TEMP or is cut", "[socketmap][limits]")
{
    constexpr auto max = proto::max_socketmap_reply_bytes;
    std::string value_at_limit(max - 3, 'v');  // "OK " + value

    auto ok = as_postfix_reads(proto::encode_socketmap_reply(socketmap_status::ok, value_at_limit));
    REQUIRE(ok);
    CHECK(ok->size() == max);
    CHECK(proto::parse_socketmap_reply(*ok) == socketmap_reply{socketmap_status::ok, value_at_limit});

    // One byte more would make Postfix fail the lookup with "input exceeds
    // size limit"; a cut route could be a wrong route. TEMP says why.
    auto past = as_postfix_reads(proto::encode_socketmap_reply(socketmap_status::ok, value_at_limit + "v"));
    REQUIRE(past);
    CHECK(*past == "TEMP mxwarden: reply of 100001 bytes exceeds 100000");

    // A reason is only logged: it is cut to fit and keeps its status.
    for (auto st : {socketmap_status::temp, socketmap_status::timeout, socketmap_status::perm}) {
        INFO(proto::to_string(st));
        std::string word(proto::to_string(st));
        std::string reason_at_limit(max - word.size() - 1, 'r');
        auto at = as_postfix_reads(proto::encode_socketmap_reply(st, reason_at_limit));
        REQUIRE(at);
        CHECK(*at == word + " " + reason_at_limit);
        auto cut = as_postfix_reads(proto::encode_socketmap_reply(st, reason_at_limit + "r"));
        REQUIRE(cut);
        CHECK(*cut == *at);
        auto far = as_postfix_reads(proto::encode_socketmap_reply(st, std::string(3 * max, 'r')));
        REQUIRE(far);
        CHECK(*far == *at);
    }
}

TEST_CASE("socketmap replies parse as Postfix's dict_sockmap reads them", "[socketmap]")
{
    struct tcase {
        const char* label;
        std::string payload;
        socketmap_reply want;
    };
    auto c = GENERATE(values<tcase>({
        {"a value", "OK smtp:[192.0.2.7]:25", {socketmap_status::ok, "smtp:[192.0.2.7]:25"}},
        {"an empty value", "OK ", {socketmap_status::ok, ""}},
        {"OK without a space", "OK", {socketmap_status::ok, ""}},
        {"a value keeps further spaces", "OK  a b ", {socketmap_status::ok, " a b "}},
        {"not found", "NOTFOUND ", {socketmap_status::notfound, ""}},
        {"not found without the space (Sendmail style)", "NOTFOUND", {socketmap_status::notfound, ""}},
        {"not found with text", "NOTFOUND x", {socketmap_status::notfound, "x"}},
        {"temp", "TEMP dns servfail", {socketmap_status::temp, "dns servfail"}},
        {"timeout", "TIMEOUT", {socketmap_status::timeout, ""}},
        {"perm", "PERM unknown map", {socketmap_status::perm, "unknown map"}},
        {"CR, LF and NUL in data", "OK a\r\n\0"s, {socketmap_status::ok, "a\r\n\0"s}},
    }));
    INFO(c.label);
    CHECK(proto::parse_socketmap_reply(c.payload) == c.want);
}

TEST_CASE("unknown socketmap reply status words are refused", "[socketmap]")
{
    auto payload = GENERATE(as<std::string>{}, "", " ", "ok x", "Ok x", "FOUND x", " OK x", "OKx", "OK\tx",
                            "NOTFOUND\t", "TEMPORARY x", "PERM\0 x"s, "\0OK x"s, "transport *");
    INFO(payload);
    CHECK(!proto::parse_socketmap_reply(payload));
}

TEST_CASE("every encoded reply parses back to its status and cleaned data", "[socketmap][encode]")
{
    auto st = GENERATE(socketmap_status::ok, socketmap_status::notfound, socketmap_status::temp,
                       socketmap_status::timeout, socketmap_status::perm);
    struct tcase {
        std::string data;
        std::string cleaned;
    };
    auto c = GENERATE(values<tcase>({
        {"", ""},
        {"mxw:[192.0.2.7]:25, [192.0.2.8]:25", "mxw:[192.0.2.7]:25, [192.0.2.8]:25"},
        {" leading and trailing ", " leading and trailing "},
        {"a\rb\nc\0d"s, "a b c d"},
        {"\r\n", "  "},
        {"\xff\x01", "\xff\x01"},
    }));
    INFO(proto::to_string(st) << " [" << c.data << "]");
    auto payload = as_postfix_reads(proto::encode_socketmap_reply(st, c.data));
    REQUIRE(payload);
    auto r = proto::parse_socketmap_reply(*payload);
    REQUIRE(r);
    CHECK(r->status == st);
    CHECK(r->data == (st == socketmap_status::notfound ? "" : c.cleaned));
}

TEST_CASE("socketmap status words", "[socketmap]")
{
    CHECK(proto::to_string(socketmap_status::ok) == "OK");
    CHECK(proto::to_string(socketmap_status::notfound) == "NOTFOUND");
    CHECK(proto::to_string(socketmap_status::temp) == "TEMP");
    CHECK(proto::to_string(socketmap_status::timeout) == "TIMEOUT");
    CHECK(proto::to_string(socketmap_status::perm) == "PERM");
}

TEST_CASE("a pipelined Postfix exchange: requests in, replies out, in order", "[socketmap]")
{
    // What one Postfix connection carries: the address, then the wildcard.
    std::string stream = "30:transport user+ext@example.com,11:transport *,";
    netstring_decoder d(proto::max_socketmap_request_bytes);
    std::string_view in = stream;
    std::string replies;
    while (!in.empty()) {
        REQUIRE(d.feed(in) == step::frame);
        in.remove_prefix(d.consumed());
        auto req = proto::parse_socketmap_request(d.payload());
        REQUIRE(req);
        replies += req->key == "*" ? proto::encode_socketmap_reply(socketmap_status::notfound, "")
                                   : proto::encode_socketmap_reply(socketmap_status::ok, "mxw:[192.0.2.7]:25");
    }
    CHECK(replies == "21:OK mxw:[192.0.2.7]:25,9:NOTFOUND ,");
}
