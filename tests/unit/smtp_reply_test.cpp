// Tests for proto/smtp_reply: the incremental SMTP reply decoder the banner
// prober reads MX greetings with, and its encoder. Each limit is tested at
// its value and one past it; feeding is tested at every split of the stream,
// because the prober hands the decoder whatever the socket returned.
#include "proto/errors.hpp"
#include "proto/limits.hpp"
#include "proto/smtp_reply.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

using namespace std::string_literals;
using mxw::proto::proto_errc;
using mxw::proto::smtp_reply;
using mxw::proto::smtp_reply_decoder;
using mxw::proto::step;
namespace proto = mxw::proto;

namespace {

// A Postfix-style multi-line greeting, as big providers send them.
const std::string multi_greeting =
    "220-mx1.example.net ESMTP ready\r\n"
    "220-Unsolicited bulk mail is not welcome here.\r\n"
    "220 See https://example.net/policy\r\n";

// What decoding a stream produced, comparable as a whole.
struct result {
    std::vector<smtp_reply> frames;
    std::error_code ec;        // set if decoding stopped on an error
    std::size_t consumed = 0;  // bytes taken from the input in total
    bool operator==(const result&) const = default;
};

// Feeds `in` in pieces of `chunk` bytes, as a session would: after a frame
// the rest of the piece is fed again. Checks the consumed() contract on
// every feed.
result decode(std::string_view in, std::size_t chunk = std::string_view::npos)
{
    smtp_reply_decoder d;
    result r;
    std::size_t pos = 0;
    while (pos < in.size()) {
        std::string_view piece = in.substr(pos, chunk);
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
                r.frames.push_back(d.reply());
            piece.remove_prefix(d.consumed());
        } while (!piece.empty());
    }
    return r;
}

result one(smtp_reply rep, std::size_t consumed)
{
    result r;
    r.frames.push_back(std::move(rep));
    r.consumed = consumed;
    return r;
}

// One reply line of exactly `bytes` bytes, line end included.
std::string line_of(std::size_t bytes, char sep = ' ', std::string_view eol = "\r\n", std::string_view code = "220")
{
    std::string s(code);
    s += sep;
    s.append(bytes - s.size() - eol.size(), 'a');
    return s + std::string(eol);
}

// A valid 220 reply of `n` lines.
std::string reply_of_lines(std::size_t n)
{
    std::string out;
    for (std::size_t i = 1; i < n; ++i)
        out += "220-line " + std::to_string(i) + "\r\n";
    return out + "220 last\r\n";
}

// A valid 220 reply of exactly `total` bytes, made of lines within the line
// limit.
std::string reply_of_size(std::size_t total)
{
    constexpr auto max_line = proto::max_smtp_reply_line_bytes;
    std::string out;
    std::size_t left = total;
    while (left > max_line) {
        std::size_t n = left - max_line < 6 ? max_line - 6 : max_line;  // the last line needs "220 \r\n"
        out += line_of(n, '-');
        left -= n;
    }
    return out + line_of(left);
}

}  // namespace

TEST_CASE("smtp_reply: valid replies decode to code and raw text lines", "[smtp_reply]")
{
    struct tcase {
        const char* label;
        std::string in;
        smtp_reply want;
    };
    auto c = GENERATE(values<tcase>({
        {"Postfix greeting", "220 mx.example.org ESMTP Postfix\r\n", {220, {"mx.example.org ESMTP Postfix"}}},
        {"multi-line greeting", multi_greeting,
         {220,
          {"mx1.example.net ESMTP ready", "Unsolicited bulk mail is not welcome here.",
           "See https://example.net/policy"}}},
        {"code alone", "220\r\n", {220, {""}}},
        {"code and space", "220 \r\n", {220, {""}}},
        {"empty continuation lines", "220-\r\n220-\r\n220\r\n", {220, {"", "", ""}}},
        {"bare LF ends lines too", "220-a\n220 b\n", {220, {"a", "b"}}},
        {"CRLF and LF mixed", "220-a\r\n220-b\n220 c\r\n", {220, {"a", "b", "c"}}},
        {"code alone with bare LF", "220\n", {220, {""}}},
        {"a CR inside text is text", "220 a\rb\r\n", {220, {"a\rb"}}},
        {"only one CR is the line end", "220 a\r\r\n", {220, {"a\r"}}},
        {"NUL, tab and 8-bit text kept raw", "220 a\0b\tc\xc3\xa9\xff\r\n"s, {220, {"a\0b\tc\xc3\xa9\xff"s}}},
        {"text repeating a code", "220-220 x\r\n220 221-y\r\n", {220, {"220 x", "221-y"}}},
        {"extra spaces are text", "220  two\r\n", {220, {" two"}}},
        {"421 greeting decodes", "421 4.3.2 try later\r\n", {421, {"4.3.2 try later"}}},
        {"554 greeting decodes", "554-no\r\n554 5.7.1 go away\r\n", {554, {"no", "5.7.1 go away"}}},
        {"lowest code", "200 x\r\n", {200, {"x"}}},
        {"highest code", "599 x\r\n", {599, {"x"}}},
        {"second digit is not checked", "290 x\r\n", {290, {"x"}}},
    }));
    INFO(c.label);
    CHECK(decode(c.in) == one(c.want, c.in.size()));
    CHECK(decode(c.in, 1) == one(c.want, c.in.size()));
}

TEST_CASE("smtp_reply: malformed replies fail with the documented error", "[smtp_reply]")
{
    struct tcase {
        const char* label;
        std::string in;
        proto_errc want;
        std::size_t want_consumed;  // bytes before the offending one
    };
    auto c = GENERATE(values<tcase>({
        {"garbage banner", "hello there\r\n", proto_errc::smtp_bad_code, 0},
        {"empty line", "\r\n", proto_errc::smtp_bad_code, 0},
        {"bare LF line", "\n", proto_errc::smtp_bad_code, 0},
        {"leading space", " 220 x\r\n", proto_errc::smtp_bad_code, 0},
        {"NUL first", "\0"s, proto_errc::smtp_bad_code, 0},
        {"NUL inside the code", "2\0" "0 x\r\n"s, proto_errc::smtp_bad_code, 1},
        {"1xx is not an SMTP reply", "120 x\r\n", proto_errc::smtp_bad_code, 0},
        {"6xx", "600 x\r\n", proto_errc::smtp_bad_code, 0},
        {"0xx", "020 x\r\n", proto_errc::smtp_bad_code, 0},
        {"two digits", "22 x\r\n", proto_errc::smtp_bad_code, 2},
        {"two digits and CRLF", "22\r\n", proto_errc::smtp_bad_code, 2},
        {"letter in the code", "2x0 x\r\n", proto_errc::smtp_bad_code, 1},
        {"four digits", "2200 x\r\n", proto_errc::smtp_bad_separator, 3},
        {"tab after the code", "220\tx\r\n", proto_errc::smtp_bad_separator, 3},
        {"underscore after the code", "220_x\r\n", proto_errc::smtp_bad_separator, 3},
        {"CR then text after the code", "220\rx\r\n", proto_errc::smtp_bad_separator, 6},
        {"CR CR after the code", "220\r\r\n", proto_errc::smtp_bad_separator, 5},
        {"continuation with another code", "220-a\r\n221 b\r\n", proto_errc::smtp_code_mismatch, 9},
        {"final 4xx after 2xx lines", "220-a\r\n421 b\r\n", proto_errc::smtp_code_mismatch, 9},
        {"garbage continuation", "220-a\r\nhello\r\n", proto_errc::smtp_bad_code, 7},
        {"empty line inside a reply", "220-a\r\n\r\n220 b\r\n", proto_errc::smtp_bad_code, 7},
        {"bad separator on a later line", "220-a\r\n220+b\r\n", proto_errc::smtp_bad_separator, 10},
    }));
    INFO(c.label);
    result want;
    want.ec = c.want;
    want.consumed = c.want_consumed;
    CHECK(decode(c.in) == want);
    // Split feeding must find the same fault at the same byte.
    CHECK(decode(c.in, 1) == want);
    CHECK(decode(c.in, 3) == want);
}

TEST_CASE("smtp_reply: a bad code fails at once, without waiting for the line end", "[smtp_reply]")
{
    smtp_reply_decoder d;
    CHECK(d.feed("h") == step::error);
    CHECK(d.error() == proto_errc::smtp_bad_code);
    CHECK(d.consumed() == 0);

    smtp_reply_decoder m;
    CHECK(m.feed("220-first\r\n22") == step::need_more);
    CHECK(m.feed("1") == step::error);
    CHECK(m.error() == proto_errc::smtp_code_mismatch);
}

TEST_CASE("smtp_reply: line length limit: at the limit ok, one past fails", "[smtp_reply][limits]")
{
    constexpr auto max = proto::max_smtp_reply_line_bytes;
    std::size_t chunk = GENERATE(as<std::size_t>{}, std::string_view::npos, 1, 100, proto::max_smtp_reply_line_bytes);
    INFO("chunk " << chunk);

    for (std::string_view eol : {"\r\n", "\n"}) {
        INFO("eol size " << eol.size());
        std::string at = line_of(max, ' ', eol);
        auto ok = decode(at, chunk);
        REQUIRE(ok.frames.size() == 1);
        CHECK(ok.frames[0].lines[0].size() == max - 4 - eol.size());

        auto bad = decode(line_of(max + 1, ' ', eol), chunk);
        CHECK(bad.ec == proto_errc::smtp_line_too_long);
        CHECK(bad.consumed == max);

        // The same on a continuation line after the first.
        std::string first = "220-x\r\n";
        CHECK(decode(first + line_of(max, '-', eol) + at, chunk).frames.size() == 1);
        auto bad_later = decode(first + line_of(max + 1, '-', eol) + at, chunk);
        CHECK(bad_later.ec == proto_errc::smtp_line_too_long);
        CHECK(bad_later.consumed == first.size() + max);
    }
}

TEST_CASE("smtp_reply: an endless line fails once it passes the limit, without waiting for LF", "[smtp_reply][limits]")
{
    smtp_reply_decoder d;
    std::string at_limit = "220 " + std::string(proto::max_smtp_reply_line_bytes - 4, 'a');
    CHECK(d.feed(at_limit) == step::need_more);
    // Even the LF that would end it is one byte too many.
    CHECK(d.feed("\n") == step::error);
    CHECK(d.error() == proto_errc::smtp_line_too_long);
    CHECK(d.consumed() == 0);
}

TEST_CASE("smtp_reply: line count limit: at the limit ok, one past fails", "[smtp_reply][limits]")
{
    constexpr auto max = proto::max_smtp_reply_lines;
    std::size_t chunk = GENERATE(as<std::size_t>{}, std::string_view::npos, 1, 7);
    INFO("chunk " << chunk);

    auto ok = decode(reply_of_lines(max), chunk);
    REQUIRE(ok.frames.size() == 1);
    CHECK(ok.frames[0].lines.size() == max);

    // The reply fails on the LF of its max-th line when that line announces
    // one more, not when the extra line arrives.
    std::string past = reply_of_lines(max + 1);
    std::string upto = past.substr(0, past.find("220 last"));
    auto bad = decode(past, chunk);
    CHECK(bad.ec == proto_errc::smtp_too_many_lines);
    CHECK(bad.consumed == upto.size() - 1);
    CHECK(decode(upto, chunk).ec == proto_errc::smtp_too_many_lines);
}

TEST_CASE("smtp_reply: reply size limit: at the limit ok, one past fails", "[smtp_reply][limits]")
{
    constexpr auto max = proto::max_smtp_reply_bytes;
    std::size_t chunk = GENERATE(as<std::size_t>{}, std::string_view::npos, 1, 999, 4096);
    INFO("chunk " << chunk);

    std::string at = reply_of_size(max);
    REQUIRE(at.size() == max);
    auto ok = decode(at, chunk);
    REQUIRE(ok.frames.size() == 1);
    CHECK(ok.consumed == max);

    std::string past = reply_of_size(max + 1);
    REQUIRE(past.size() == max + 1);
    auto bad = decode(past, chunk);
    CHECK(bad.ec == proto_errc::smtp_reply_too_long);
    CHECK(bad.consumed == max);
}

TEST_CASE("smtp_reply: the limit a line crosses first is the one reported, however it is split", "[smtp_reply][limits]")
{
    constexpr auto max = proto::max_smtp_reply_bytes;
    constexpr auto max_line = proto::max_smtp_reply_line_bytes;
    // A reply just under its size limit, then an endless line: the reply
    // limit is crossed 10 bytes into it, long before the line limit.
    std::string nearly = reply_of_size(max - 10);
    nearly.replace(nearly.rfind("220 "), 4, "220-");
    std::string reply_first = nearly + "220-" + std::string(max_line, 'a');
    // A reply with room to spare, then an endless line: the line limit.
    std::string line_first = "220-x\r\n220-" + std::string(max_line, 'a');
    // Both limits crossed by the same byte: the line limit, as it is
    // checked first.
    std::string tie = reply_of_size(max - max_line);
    tie.replace(tie.rfind("220 "), 4, "220-");
    tie += "220-" + std::string(max_line, 'a');
    for (std::size_t chunk : {std::string_view::npos, std::size_t{1}, std::size_t{3}, std::size_t{512}}) {
        INFO("chunk " << chunk);
        auto r = decode(reply_first, chunk);
        CHECK(r.ec == proto_errc::smtp_reply_too_long);
        CHECK(r.consumed == max);
        auto l = decode(line_first, chunk);
        CHECK(l.ec == proto_errc::smtp_line_too_long);
        CHECK(l.consumed == 7 + max_line);
        auto t = decode(tie, chunk);
        CHECK(t.ec == proto_errc::smtp_line_too_long);
        CHECK(t.consumed == max);
    }
}

TEST_CASE("smtp_reply: byte-by-byte and every two-piece split give the one-shot result", "[smtp_reply]")
{
    auto in = GENERATE(as<std::string>{}, multi_greeting, "220\r\n"s, "220-a\n220 b\r\n"s, "421 4.3.2 try later\r\n"s,
                       "220 a\rb\r\r\n"s, reply_of_lines(proto::max_smtp_reply_lines));
    auto whole = decode(in);
    REQUIRE(whole.frames.size() == 1);
    CHECK(decode(in, 1) == whole);

    for (std::size_t cut = 0; cut < in.size(); ++cut) {
        smtp_reply_decoder d;
        INFO("cut at " << cut);
        REQUIRE(d.feed(std::string_view(in).substr(0, cut)) == step::need_more);
        REQUIRE(d.feed(std::string_view(in).substr(cut)) == step::frame);
        REQUIRE(d.consumed() == in.size() - cut);
        REQUIRE(d.reply() == whole.frames[0]);
    }
}

TEST_CASE("smtp_reply: a valid reply truncated at any offset needs more", "[smtp_reply]")
{
    // What a dripping or silent peer leaves the prober with: never a frame
    // and never an error, so only the prober's deadline ends the wait.
    for (std::size_t cut = 0; cut < multi_greeting.size(); ++cut) {
        smtp_reply_decoder d;
        INFO("cut at " << cut);
        REQUIRE(d.feed(std::string_view(multi_greeting).substr(0, cut)) == step::need_more);
        REQUIRE(d.consumed() == cut);
        REQUIRE(!d.error());
    }
}

TEST_CASE("smtp_reply: replies in one stream decode one after the other", "[smtp_reply]")
{
    std::string quit = "221 2.0.0 Bye\r\n";
    std::string stream = multi_greeting + quit;
    smtp_reply_decoder d;
    REQUIRE(d.feed(stream) == step::frame);
    REQUIRE(d.consumed() == multi_greeting.size());
    CHECK(d.reply().lines.size() == 3);

    REQUIRE(d.feed(std::string_view(stream).substr(d.consumed())) == step::frame);
    CHECK(d.consumed() == quit.size());
    // Nothing of the first reply may leak into the second, and the second
    // is not held to the first one's code.
    CHECK(d.reply() == smtp_reply{221, {"2.0.0 Bye"}});

    CHECK(decode(stream, 5).frames.size() == 2);
}

TEST_CASE("smtp_reply: after an error the decoder stays failed until reset()", "[smtp_reply]")
{
    smtp_reply_decoder d;
    REQUIRE(d.feed("hello\r\n") == step::error);
    auto first = d.error();
    CHECK(first == proto_errc::smtp_bad_code);
    // The stream position is lost: even a valid reply must not resync.
    CHECK(d.feed(multi_greeting) == step::error);
    CHECK(d.consumed() == 0);
    CHECK(d.feed("") == step::error);
    CHECK(d.error() == first);

    d.reset();
    CHECK(!d.error());
    REQUIRE(d.feed("220 again\r\n") == step::frame);
    CHECK(d.reply() == smtp_reply{220, {"again"}});
}

TEST_CASE("smtp_reply: reset() mid-reply starts a new reply", "[smtp_reply]")
{
    smtp_reply_decoder d;
    REQUIRE(d.feed("220-half\r\n22") == step::need_more);
    d.reset();
    REQUIRE(d.feed("421 x\r\n") == step::frame);
    CHECK(d.reply() == smtp_reply{421, {"x"}});
}

TEST_CASE("smtp_reply: is_greeting_ok accepts 220 only", "[smtp_reply]")
{
    CHECK(proto::is_greeting_ok({220, {"mx ESMTP"}}));
    CHECK(proto::is_greeting_ok({220, {"", "multi"}}));
    CHECK_FALSE(proto::is_greeting_ok({421, {"4.3.2 try later"}}));
    CHECK_FALSE(proto::is_greeting_ok({554, {"5.7.1 no"}}));
    CHECK_FALSE(proto::is_greeting_ok({250, {"ok"}}));
    CHECK_FALSE(proto::is_greeting_ok({221, {"bye"}}));
}

TEST_CASE("encode_smtp_reply round-trips through the decoder", "[smtp_reply][encode]")
{
    auto rep = GENERATE(as<smtp_reply>{}, smtp_reply{220, {"mx.example.org ESMTP"}},
                        smtp_reply{220, {"a", "", "c"}}, smtp_reply{421, {""}},
                        smtp_reply{554, {"a\rb", "raw \0\xff bytes"s, "x\r"}});
    std::string wire = proto::encode_smtp_reply(rep);
    CHECK(wire.ends_with("\r\n"));
    CHECK(decode(wire) == one(rep, wire.size()));
}

TEST_CASE("encode_smtp_reply writes the wire form", "[smtp_reply][encode]")
{
    struct tcase {
        const char* label;
        smtp_reply in;
        std::string want;
    };
    auto c = GENERATE(values<tcase>({
        {"one line", {220, {"hi"}}, "220 hi\r\n"},
        {"three lines", {250, {"a", "b", "c"}}, "250-a\r\n250-b\r\n250 c\r\n"},
        {"no lines", {421, {}}, "421 \r\n"},
        {"LF in text stays on its line", {220, {"a\n221 b"}}, "220 a 221 b\r\n"},
    }));
    INFO(c.label);
    CHECK(proto::encode_smtp_reply(c.in) == c.want);
}

TEST_CASE("SMTP reply errors have distinct messages in the proto category", "[smtp_reply]")
{
    std::vector<std::string> seen;
    for (auto e : {proto_errc::smtp_bad_code, proto_errc::smtp_bad_separator, proto_errc::smtp_code_mismatch,
                   proto_errc::smtp_line_too_long, proto_errc::smtp_too_many_lines, proto_errc::smtp_reply_too_long}) {
        std::error_code ec = e;
        CHECK(std::string(ec.category().name()) == "mxw.proto");
        INFO(ec.message());
        CHECK(ec.message().starts_with("SMTP reply"));
        CHECK(std::find(seen.begin(), seen.end(), ec.message()) == seen.end());
        seen.push_back(ec.message());
    }
}
