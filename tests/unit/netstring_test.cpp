// Tests for proto/netstring: the incremental netstring decoder and encoder.
// The payload limit is tested at its value and one past it, as is
// max_netstring_length_digits; feeding is tested at every split of the
// stream, because a session hands the decoder whatever the socket returned.
#include "proto/errors.hpp"
#include "proto/limits.hpp"
#include "proto/netstring.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

using namespace std::string_literals;
using mxw::proto::netstring_decoder;
using mxw::proto::proto_errc;
using mxw::proto::step;
namespace proto = mxw::proto;

namespace {

constexpr std::size_t request_max = proto::max_socketmap_request_bytes;

// What decoding a stream produced, comparable as a whole.
struct result {
    std::vector<std::string> frames;
    std::error_code ec;        // set if decoding stopped on an error
    std::size_t consumed = 0;  // bytes taken from the input in total
    bool operator==(const result&) const = default;
};

// Feeds `in` split at `cuts` (ascending offsets), as a session would: after
// a frame the rest of the piece is fed again. Checks the consumed() contract
// on every feed.
result decode_split(std::string_view in, const std::vector<std::size_t>& cuts, std::size_t max = request_max)
{
    netstring_decoder d(max);
    result r;
    std::size_t pos = 0;
    for (std::size_t i = 0; i <= cuts.size(); ++i) {
        std::size_t end = i < cuts.size() ? cuts[i] : in.size();
        std::string_view piece = in.substr(pos, end - pos);
        do {
            step s = d.feed(piece);
            REQUIRE(d.consumed() <= piece.size());
            r.consumed += d.consumed();
            pos += d.consumed();
            if (s == step::error) {
                r.ec = d.error();
                REQUIRE(r.ec);
                return r;
            }
            REQUIRE(!d.error());
            if (s == step::need_more)
                REQUIRE(d.consumed() == piece.size());  // need_more means all of it was used
            else
                r.frames.emplace_back(d.payload());
            piece.remove_prefix(d.consumed());
        } while (!piece.empty());
    }
    return r;
}

// Feeds `in` in pieces of `chunk` bytes.
result decode(std::string_view in, std::size_t chunk = std::string_view::npos, std::size_t max = request_max)
{
    std::vector<std::size_t> cuts;
    for (std::size_t at = chunk; at < in.size(); at += chunk)
        cuts.push_back(at);
    return decode_split(in, cuts, max);
}

result frames(std::vector<std::string> f, std::size_t consumed)
{
    result r;
    r.frames = std::move(f);
    r.consumed = consumed;
    return r;
}

}  // namespace

TEST_CASE("accepted netstrings decode to their payload", "[netstring]")
{
    struct tcase {
        const char* label;
        std::string in;
        std::string want;
    };
    auto c = GENERATE(values<tcase>({
        {"a word", "5:hello,", "hello"},
        {"empty payload", "0:,", ""},
        {"Postfix transport_maps wildcard lookup", "11:transport *,", "transport *"},
        {"Postfix transport_maps address lookup", "30:transport user+ext@example.com,", "transport user+ext@example.com"},
        {"Sendmail mailertable parent lookup", "24:mailertable .example.com,", "mailertable .example.com"},
        {"Sendmail mailertable root lookup", "13:mailertable .,", "mailertable ."},
        {"a reply", "22:OK smtp:[192.0.2.7]:25,", "OK smtp:[192.0.2.7]:25"},
        {"leading zeros are tolerated, as Postfix does", "005:hello,", "hello"},
        {"a zero length with leading zeros", "000:,", ""},
        {"':' and ',' inside the payload", "5:a:,b,,", "a:,b,"},
        {"digits inside the payload", "3:12:,", "12:"},
        {"NUL, CR and LF in the payload", "7:a\0b\r\nc\0,"s, "a\0b\r\nc\0"s},
        {"non-ASCII bytes", "3:\xff\x00\x80,"s, "\xff\x00\x80"s},
    }));
    INFO(c.label);
    CHECK(decode(c.in) == frames({c.want}, c.in.size()));
    CHECK(decode(c.in, 1) == frames({c.want}, c.in.size()));
}

TEST_CASE("malformed netstrings fail with the documented error", "[netstring]")
{
    struct tcase {
        const char* label;
        std::string in;
        proto_errc want;
    };
    auto c = GENERATE(values<tcase>({
        {"empty length", ":,", proto_errc::netstring_empty_length},
        {"empty length before a payload", ":hello,", proto_errc::netstring_empty_length},
        {"a letter instead of a length", "x:", proto_errc::netstring_bad_length},
        {"no ':' after the length", "5hello,", proto_errc::netstring_bad_length},
        {"a negative length", "-1:,", proto_errc::netstring_bad_length},
        {"a plus sign", "+5:hello,", proto_errc::netstring_bad_length},
        {"a space before the length", " 5:hello,", proto_errc::netstring_bad_length},
        {"a space before ':'", "5 :hello,", proto_errc::netstring_bad_length},
        {"CRLF after the length", "5\r\n:hello,", proto_errc::netstring_bad_length},
        {"NUL in the length", "5\0:hello,"s, proto_errc::netstring_bad_length},
        {"a hex length", "0x5:hello,", proto_errc::netstring_bad_length},
        {"a plain text line", "transport *\n", proto_errc::netstring_bad_length},
        {"payload longer than the length", "5:hello!,", proto_errc::netstring_missing_comma},
        {"another terminator", "5:hello;", proto_errc::netstring_missing_comma},
        {"LF as terminator", "5:hello\n", proto_errc::netstring_missing_comma},
        {"an empty payload without ','", "0:x", proto_errc::netstring_missing_comma},
        {"two colons", "0::,", proto_errc::netstring_missing_comma},
        {"too many length digits", "00000000005:hello,", proto_errc::netstring_length_too_long},
        {"a length above the limit", std::to_string(request_max + 1) + ":", proto_errc::netstring_too_long},
        {"a length far above the limit", "99999999999999999999999:", proto_errc::netstring_too_long},
    }));
    INFO(c.label);
    auto whole = decode(c.in);
    CHECK(whole.frames.empty());
    CHECK(whole.ec == c.want);
    // Split feeding must find the same fault at the same byte.
    CHECK(decode(c.in, 1) == whole);
}

TEST_CASE("payload limit: at the limit ok, one past fails before the payload", "[netstring][limits]")
{
    auto max = GENERATE(as<std::size_t>{}, proto::max_socketmap_request_bytes, proto::max_socketmap_reply_bytes, 0, 1,
                        9, 10, 99);
    std::size_t chunk = GENERATE(as<std::size_t>{}, std::string_view::npos, 1, 1000);
    INFO("max " << max << " chunk " << chunk);

    std::string at_limit(max, 'a');
    auto ok = decode(proto::encode_netstring(at_limit), chunk, max);
    REQUIRE(ok.frames.size() == 1);
    CHECK(ok.frames[0] == at_limit);

    // Only the length is fed: the decoder must refuse it without waiting
    // for, or buffering, any payload byte.
    netstring_decoder d(max);
    std::string length = std::to_string(max + 1);
    CHECK(d.feed(length) == step::error);
    CHECK(d.error() == proto_errc::netstring_too_long);
    CHECK(d.consumed() == length.size() - 1);  // the digit that crossed the limit is not taken
}

TEST_CASE("length digit limit: at the limit ok, one past fails", "[netstring][limits]")
{
    constexpr auto digits = proto::max_netstring_length_digits;
    std::string at_limit = std::string(digits - 1, '0') + "5:hello,";
    CHECK(decode(at_limit) == frames({"hello"}, at_limit.size()));

    std::string past = "0" + at_limit;
    auto bad = decode(past);
    CHECK(bad.ec == proto_errc::netstring_length_too_long);
    CHECK(bad.consumed == digits);

    // An endless run of zeros stops at the cap, not at some later byte.
    netstring_decoder d(request_max);
    CHECK(d.feed(std::string(digits, '0')) == step::need_more);
    CHECK(d.feed("0") == step::error);
    CHECK(d.error() == proto_errc::netstring_length_too_long);
}

TEST_CASE("the length check cannot overflow, whatever max_payload is", "[netstring][limits]")
{
    constexpr auto huge = std::numeric_limits<std::size_t>::max();
    netstring_decoder d(huge);
    std::string nines(proto::max_netstring_length_digits, '9');
    CHECK(d.feed(nines + ":") == step::need_more);
    CHECK(!d.error());

    netstring_decoder small(huge / 10);
    CHECK(small.feed("5:hello,") == step::frame);
    CHECK(small.payload() == "hello");
}

TEST_CASE("a netstring truncated at any offset needs more", "[netstring]")
{
    auto in = GENERATE(as<std::string>{}, "30:transport user+ext@example.com,", "0:,", "0004:a\0\r\n,"s);
    for (std::size_t cut = 0; cut < in.size(); ++cut) {
        netstring_decoder d(request_max);
        INFO("cut at " << cut);
        REQUIRE(d.feed(std::string_view(in).substr(0, cut)) == step::need_more);
        REQUIRE(d.consumed() == cut);
        REQUIRE(!d.error());
        // And the rest completes it.
        REQUIRE(d.feed(std::string_view(in).substr(cut)) == step::frame);
        REQUIRE(d.consumed() == in.size() - cut);
    }
}

TEST_CASE("netstrings fed byte by byte or split anywhere give the one-shot result", "[netstring]")
{
    auto in = GENERATE(as<std::string>{}, "11:transport *,", "11:transport *,24:mailertable .example.com,0:,",
                       "5:a\0b\r\n,5:hello;"s, "3:abc,x", proto::encode_netstring(std::string(3000, 'z')));
    auto whole = decode(in);
    CHECK(decode(in, 1) == whole);
    CHECK(decode(in, 7) == whole);

    for (std::size_t cut = 0; cut <= in.size(); ++cut) {
        INFO("cut at " << cut);
        REQUIRE(decode_split(in, {cut}) == whole);
    }
}

TEST_CASE("two netstrings in one feed decode one after the other", "[netstring]")
{
    std::string first = "11:transport *,";
    std::string second = "24:mailertable .example.com,";
    std::string stream = first + second + "3:ab";
    netstring_decoder d(request_max);

    REQUIRE(d.feed(stream) == step::frame);
    REQUIRE(d.consumed() == first.size());
    CHECK(d.payload() == "transport *");

    std::string_view rest = std::string_view(stream).substr(first.size());
    REQUIRE(d.feed(rest) == step::frame);
    REQUIRE(d.consumed() == second.size());
    CHECK(d.payload() == "mailertable .example.com");

    rest.remove_prefix(second.size());
    CHECK(d.feed(rest) == step::need_more);
    CHECK(d.consumed() == 4);
    CHECK(d.feed("c,") == step::frame);
    CHECK(d.payload() == "abc");
}

TEST_CASE("payload() stays valid while the caller reuses its buffer", "[netstring]")
{
    std::string buffer = "11:transport *,";
    netstring_decoder d(request_max);
    REQUIRE(d.feed(buffer) == step::frame);
    std::fill(buffer.begin(), buffer.end(), 'X');
    CHECK(d.payload() == "transport *");
}

TEST_CASE("after an error the decoder stays failed until reset()", "[netstring]")
{
    netstring_decoder d(request_max);
    REQUIRE(d.feed("5:hello;") == step::error);
    auto first = d.error();
    CHECK(first == proto_errc::netstring_missing_comma);
    // The stream position is lost: even a valid netstring must not resync.
    CHECK(d.feed("5:hello,") == step::error);
    CHECK(d.consumed() == 0);
    CHECK(d.feed("") == step::error);
    CHECK(d.error() == first);

    d.reset();
    CHECK(!d.error());
    CHECK(d.feed("5:hello,") == step::frame);
    CHECK(d.payload() == "hello");
}

TEST_CASE("feeding nothing changes nothing", "[netstring]")
{
    netstring_decoder d(request_max);
    CHECK(d.feed("") == step::need_more);
    CHECK(d.consumed() == 0);
    CHECK(d.feed("3:a") == step::need_more);
    CHECK(d.feed("") == step::need_more);
    CHECK(d.feed("bc,") == step::frame);
    CHECK(d.payload() == "abc");
}

TEST_CASE("encode_netstring round-trips through the decoder", "[netstring][encode]")
{
    auto payload = GENERATE(as<std::string>{}, "", "hello", "transport *", "5:hello,", "a\0b\r\n,"s, "\xff\xfe",
                            std::string(proto::max_socketmap_reply_bytes, 'x'));
    std::string wire = proto::encode_netstring(payload);
    CHECK(wire == std::to_string(payload.size()) + ":" + payload + ",");
    CHECK(decode(wire, std::string_view::npos, proto::max_socketmap_reply_bytes) == frames({payload}, wire.size()));
}

TEST_CASE("encode_netstring writes Postfix's exact bytes", "[netstring][encode]")
{
    CHECK(proto::encode_netstring("transport *") == "11:transport *,");
    CHECK(proto::encode_netstring("NOTFOUND ") == "9:NOTFOUND ,");
    CHECK(proto::encode_netstring("") == "0:,");
}

TEST_CASE("netstring and socketmap errors have distinct messages", "[netstring][socketmap]")
{
    std::vector<std::string> seen;
    for (int e = 1; e <= static_cast<int>(proto_errc::socketmap_nul_in_key); ++e) {
        std::error_code ec = static_cast<proto_errc>(e);
        CHECK(std::string(ec.category().name()) == "mxw.proto");
        INFO(ec.message());
        CHECK(ec.message() != "unknown protocol error");
        CHECK(std::find(seen.begin(), seen.end(), ec.message()) == seen.end());
        seen.push_back(ec.message());
    }
}
