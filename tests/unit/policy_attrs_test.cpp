// Tests for proto/policy_attrs: the incremental Postfix policy request decoder
// and the request/reply encoders. Each limit in proto/limits.hpp is tested at
// its value and one past it; feeding is tested at every split of the stream,
// because a session hands the decoder whatever the socket happened to return.
#include "proto/errors.hpp"
#include "proto/limits.hpp"
#include "proto/policy_attrs.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

using namespace std::string_literals;
using mxw::proto::policy_decoder;
using mxw::proto::policy_request;
using mxw::proto::proto_errc;
using mxw::proto::step;
namespace proto = mxw::proto;

namespace {

// A request as Postfix 3.7 sends it at RCPT: every attribute it knows, most
// of them empty (SMTPD_POLICY_README; mta-integration.md §1.2).
const std::string postfix37_request =
    "request=smtpd_access_policy\n"
    "protocol_state=RCPT\n"
    "protocol_name=ESMTP\n"
    "client_address=203.0.113.7\n"
    "client_name=mail.example.org\n"
    "client_port=53012\n"
    "reverse_client_name=mail.example.org\n"
    "server_address=192.0.2.25\n"
    "server_port=25\n"
    "helo_name=mail.example.org\n"
    "sender=alice@example.org\n"
    "recipient=bob@example.net\n"
    "recipient_count=0\n"
    "queue_id=\n"
    "instance=1b2c.65f0a1d3.8e2f1.0\n"
    "size=12345\n"
    "etrn_domain=\n"
    "stress=\n"
    "sasl_method=\n"
    "sasl_username=\n"
    "sasl_sender=\n"
    "ccert_subject=\n"
    "ccert_issuer=\n"
    "ccert_fingerprint=\n"
    "ccert_pubkey_fingerprint=\n"
    "encryption_protocol=TLSv1.3\n"
    "encryption_cipher=TLS_AES_256_GCM_SHA384\n"
    "encryption_keysize=256\n"
    "policy_context=\n"
    "\n";

const std::string header = "request=smtpd_access_policy\n";

// What decoding one request produced, comparable as a whole.
struct result {
    step st = step::need_more;
    std::error_code ec;
    policy_request req;
    std::size_t consumed = 0;  // bytes taken from the input in total
};

// Feeds `in` in pieces of `chunk` bytes until a frame or an error, as a
// session would, and checks the consumed() contract on every feed.
result decode(std::string_view in, std::size_t chunk = std::string_view::npos)
{
    policy_decoder d;
    result r;
    std::size_t pos = 0;
    do {
        std::string_view piece = in.substr(pos, chunk);
        r.st = d.feed(piece);
        REQUIRE(d.consumed() <= piece.size());
        r.consumed += d.consumed();
        pos += d.consumed();
        if (r.st != step::need_more)
            break;
        // need_more means "all of it was used"; a partial consume would
        // leave the session unsure what to feed next.
        REQUIRE(d.consumed() == piece.size());
    } while (pos < in.size());
    r.ec = d.error();
    if (r.st == step::frame)
        r.req = d.request();
    return r;
}

// One attribute line of exactly `bytes` bytes before its LF.
std::string line_of(std::size_t bytes, std::string_view name = "x")
{
    std::string s(name);
    s += '=';
    s.append(bytes - s.size(), 'a');
    return s + "\n";
}

// A valid request of exactly `total` bytes, blank line included, made of
// filler attributes that are each within the line limit.
std::string request_of_size(std::size_t total)
{
    std::string out = header;
    std::size_t left = total - header.size() - 1;
    while (left > 0) {
        std::size_t n = std::min(left, proto::max_policy_line_bytes + 1);
        if (left - n > 0 && left - n < 3)  // the last line needs room for "x=\n"
            n -= 3;
        out += line_of(n - 1);
        left -= n;
    }
    return out + "\n";
}

}  // namespace

TEST_CASE("a Postfix 3.7 request decodes the attributes mxwarden uses", "[policy_attrs]")
{
    auto r = decode(postfix37_request);
    REQUIRE(r.st == step::frame);
    CHECK(r.consumed == postfix37_request.size());
    CHECK(r.req.protocol_state == "RCPT");
    CHECK(r.req.protocol_name == "ESMTP");
    CHECK(r.req.helo_name == "mail.example.org");
    CHECK(r.req.queue_id.empty());
    CHECK(r.req.sender == "alice@example.org");
    CHECK(r.req.recipient == "bob@example.net");
    CHECK(r.req.client_address == "203.0.113.7");
    CHECK(r.req.client_name == "mail.example.org");
    CHECK(r.req.reverse_client_name == "mail.example.org");
    CHECK(r.req.instance == "1b2c.65f0a1d3.8e2f1.0");
}

TEST_CASE("accepted inputs decode to the expected request", "[policy_attrs]")
{
    struct tcase {
        const char* label;
        std::string in;
        std::string want_sender;
        std::string want_helo;
    };
    auto c = GENERATE(values<tcase>({
        {"unknown attributes, also from later Postfix versions, are skipped",
         header + "compatibility_level=3.6\nmail_version=3.12.0\ntls_sni=mx.example\nsender=a@b\n\n", "a@b", ""},
        {"a repeated attribute keeps its last value", header + "sender=first@x\nsender=last@x\n\n", "last@x", ""},
        {"request= may come after other attributes", "sender=a@b\n" + header + "\n", "a@b", ""},
        {"a value may hold '='", header + "sender=a=b==c@x\n\n", "a=b==c@x", ""},
        {"CR is kept in a value: Postfix frames by LF only", header + "sender=a@b\r\nhelo_name=h\r\n\n", "a@b\r",
         "h\r"},
        {"empty values are empty", header + "sender=\nhelo_name=\n\n", "", ""},
        {"non-ASCII bytes pass through", header + "helo_name=\xc3\xa9\xff\n\n", "", "\xc3\xa9\xff"},
        {"request= alone is a request", header + "\n", "", ""},
    }));
    INFO(c.label);
    auto r = decode(c.in);
    REQUIRE(r.st == step::frame);
    CHECK(r.consumed == c.in.size());
    CHECK(r.req.sender == c.want_sender);
    CHECK(r.req.helo_name == c.want_helo);
}

TEST_CASE("malformed requests fail with the documented error", "[policy_attrs]")
{
    struct tcase {
        const char* label;
        std::string in;
        proto_errc want;
    };
    auto c = GENERATE(values<tcase>({
        {"no request= attribute", "sender=a@b\n\n", proto_errc::not_policy_request},
        {"a blank line alone", "\n", proto_errc::not_policy_request},
        {"request=other", "request=other\nsender=a@b\n\n", proto_errc::not_policy_request},
        {"request= empty", "request=\n\n", proto_errc::not_policy_request},
        {"request name is case-sensitive", "REQUEST=smtpd_access_policy\n\n", proto_errc::not_policy_request},
        {"CRLF framing is not Postfix's", "request=smtpd_access_policy\r\n\r\n", proto_errc::not_policy_request},
        {"NUL in a value", header + "sender=a\0b\n\n"s, proto_errc::nul_byte},
        {"NUL in a name", header + "sen\0der=a\n\n"s, proto_errc::nul_byte},
        {"NUL before any LF", "\0"s, proto_errc::nul_byte},
        {"a line without '='", header + "sender\n\n", proto_errc::missing_equals},
        {"a line of only CR", header + "\r\n\n", proto_errc::missing_equals},
        {"an empty name", header + "=x\n\n", proto_errc::empty_name},
        {"only '='", header + "=\n\n", proto_errc::empty_name},
    }));
    INFO(c.label);
    auto r = decode(c.in);
    CHECK(r.st == step::error);
    CHECK(r.ec == c.want);
    // Split feeding must find the same fault.
    auto bytewise = decode(c.in, 1);
    CHECK(bytewise.st == step::error);
    CHECK(bytewise.ec == c.want);
}

TEST_CASE("line length limit: at the limit ok, one past fails", "[policy_attrs][limits]")
{
    constexpr auto max = proto::max_policy_line_bytes;
    std::size_t chunk = GENERATE(as<std::size_t>{}, std::string_view::npos, 1, 1000);
    INFO("chunk " << chunk);

    auto ok = decode(header + line_of(max, "sender") + "\n", chunk);
    REQUIRE(ok.st == step::frame);
    CHECK(ok.req.sender.size() == max - "sender="s.size());

    auto unknown_ok = decode(header + line_of(max, "ccert_subject") + "\n", chunk);
    CHECK(unknown_ok.st == step::frame);

    auto bad = decode(header + line_of(max + 1, "sender") + "\n", chunk);
    CHECK(bad.st == step::error);
    CHECK(bad.ec == proto_errc::line_too_long);
}

TEST_CASE("an endless line fails once it passes the limit, without waiting for LF", "[policy_attrs][limits]")
{
    policy_decoder d;
    std::string at_limit(proto::max_policy_line_bytes, 'a');
    CHECK(d.feed(at_limit) == step::need_more);
    CHECK(d.feed("a") == step::error);
    CHECK(d.error() == proto_errc::line_too_long);
}

TEST_CASE("attribute count limit: at the limit ok, one past fails", "[policy_attrs][limits]")
{
    constexpr auto max = proto::max_policy_attributes;
    auto with_lines = [](std::size_t n) {
        std::string s = header;  // request= counts as an attribute line
        for (std::size_t i = 1; i < n; ++i)
            s += "x" + std::to_string(i) + "=v\n";
        return s + "\n";
    };
    auto ok = decode(with_lines(max));
    CHECK(ok.st == step::frame);
    auto bad = decode(with_lines(max + 1));
    CHECK(bad.st == step::error);
    CHECK(bad.ec == proto_errc::too_many_attributes);
}

TEST_CASE("request size limit: at the limit ok, one past fails", "[policy_attrs][limits]")
{
    constexpr auto max = proto::max_policy_request_bytes;
    std::size_t chunk = GENERATE(as<std::size_t>{}, std::string_view::npos, 1, 4096);
    INFO("chunk " << chunk);

    std::string at_limit = request_of_size(max);
    REQUIRE(at_limit.size() == max);
    auto ok = decode(at_limit, chunk);
    CHECK(ok.st == step::frame);
    CHECK(ok.consumed == max);

    std::string past = request_of_size(max + 1);
    REQUIRE(past.size() == max + 1);
    auto bad = decode(past, chunk);
    CHECK(bad.st == step::error);
    CHECK(bad.ec == proto_errc::request_too_long);
}

TEST_CASE("two requests in one feed decode one after the other", "[policy_attrs]")
{
    std::string second = header + "sender=second@x\n\n";
    std::string stream = postfix37_request + second;
    policy_decoder d;
    REQUIRE(d.feed(stream) == step::frame);
    REQUIRE(d.consumed() == postfix37_request.size());
    CHECK(d.request().sender == "alice@example.org");

    REQUIRE(d.feed(std::string_view(stream).substr(d.consumed())) == step::frame);
    CHECK(d.consumed() == second.size());
    CHECK(d.request().sender == "second@x");
    // Nothing of the first request may leak into the second.
    CHECK(d.request().helo_name.empty());
    CHECK(d.request().client_address.empty());
}

TEST_CASE("byte-by-byte and every two-piece split give the one-shot result", "[policy_attrs]")
{
    auto in = GENERATE(as<std::string>{}, postfix37_request, header + "sender=a=b\r\n\n",
                       header + "helo_name=\xff\x01 x\n\n", request_of_size(proto::max_policy_request_bytes / 8));
    auto whole = decode(in);
    REQUIRE(whole.st == step::frame);

    auto bytewise = decode(in, 1);
    CHECK(bytewise.st == step::frame);
    CHECK(bytewise.consumed == whole.consumed);
    CHECK(bytewise.req == whole.req);

    for (std::size_t cut = 0; cut < in.size(); ++cut) {
        policy_decoder d;
        INFO("cut at " << cut);
        REQUIRE(d.feed(std::string_view(in).substr(0, cut)) == step::need_more);
        REQUIRE(d.feed(std::string_view(in).substr(cut)) == step::frame);
        REQUIRE(d.request() == whole.req);
    }
}

TEST_CASE("a valid request truncated at any offset needs more", "[policy_attrs]")
{
    for (std::size_t cut = 0; cut < postfix37_request.size(); ++cut) {
        policy_decoder d;
        INFO("cut at " << cut);
        REQUIRE(d.feed(std::string_view(postfix37_request).substr(0, cut)) == step::need_more);
        REQUIRE(d.consumed() == cut);
        REQUIRE(!d.error());
    }
}

TEST_CASE("after an error the decoder stays failed", "[policy_attrs]")
{
    policy_decoder d;
    REQUIRE(d.feed(header + "broken\n") == step::error);
    auto first = d.error();
    CHECK(first == proto_errc::missing_equals);
    // The stream position is lost: even a valid request must not resync.
    CHECK(d.feed(postfix37_request) == step::error);
    CHECK(d.consumed() == 0);
    CHECK(d.feed("") == step::error);
    CHECK(d.error() == first);
}

TEST_CASE("proto errors have a category and distinct messages", "[policy_attrs]")
{
    std::vector<std::string> seen;
    for (int e = 1; e <= static_cast<int>(proto_errc::not_policy_request); ++e) {
        std::error_code ec = static_cast<proto_errc>(e);
        CHECK(std::string(ec.category().name()) == "mxw.proto");
        INFO(ec.message());
        CHECK(std::find(seen.begin(), seen.end(), ec.message()) == seen.end());
        seen.push_back(ec.message());
    }
}

TEST_CASE("encode_policy_request round-trips through the decoder", "[policy_attrs][encode]")
{
    policy_request full{"RCPT", "ESMTP", "helo.example", "4XyZ", "a=b@example.org", "c@example.net",
                        "2001:db8::7", "unknown", "ptr.example\r", "inst 1"};
    policy_request empty;
    auto req = GENERATE_COPY(as<policy_request>{}, full, empty);

    std::string wire = proto::encode_policy_request(req);
    CHECK(wire.starts_with(header));
    CHECK(wire.ends_with("\n\n"));
    auto r = decode(wire);
    REQUIRE(r.st == step::frame);
    CHECK(r.consumed == wire.size());
    CHECK(r.req == req);
}

TEST_CASE("encode_policy_request replaces LF and NUL so one field stays one line", "[policy_attrs][encode]")
{
    policy_request req;
    req.sender = "a\nrecipient=evil@x";
    req.helo_name = "h\0o"s;
    auto r = decode(proto::encode_policy_request(req));
    REQUIRE(r.st == step::frame);
    CHECK(r.req.sender == "a?recipient=evil@x");
    CHECK(r.req.recipient.empty());
    CHECK(r.req.helo_name == "h?o");
}

TEST_CASE("encode_policy_request output is decodable for every decodable request",
          "[policy_attrs][encode][regression]")
{
    // A request at the size limit that carries only some of the known
    // attributes. An encoder that also wrote the absent ones as empty lines
    // added 88 bytes and pushed the result past the decoder's limit.
    constexpr auto max = proto::max_policy_request_bytes;
    std::string in = header;
    for (auto name : {"sender", "recipient", "helo_name"})
        in += line_of(proto::max_policy_line_bytes, name);
    in += line_of(max - in.size() - 2, "client_name") + "\n";
    REQUIRE(in.size() == max);
    auto first = decode(in);
    REQUIRE(first.st == step::frame);

    auto again = decode(proto::encode_policy_request(first.req));
    CHECK(again.st == step::frame);
    CHECK(again.ec == std::error_code{});
    CHECK(again.req == first.req);
}

TEST_CASE("encode_policy_reply keeps the reply on one line", "[policy_attrs][encode]")
{
    struct tcase {
        const char* label;
        std::string action;
        std::string want;
    };
    auto c = GENERATE(values<tcase>({
        {"plain action", "DUNNO", "action=DUNNO\n\n"},
        {"text with spaces", "REJECT 5.7.1 no MX", "action=REJECT 5.7.1 no MX\n\n"},
        {"empty", "", "action=\n\n"},
        {"CRLF in peer text", "DEFER a\r\nb", "action=DEFER a  b\n\n"},
        {"injected second reply", "DUNNO\n\naction=OK", "action=DUNNO  action=OK\n\n"},
        {"NUL", "DUNNO\0x"s, "action=DUNNO x\n\n"},
        {"non-ASCII kept", "REJECT \xc3\xa9", "action=REJECT \xc3\xa9\n\n"},
    }));
    INFO(c.label);
    CHECK(proto::encode_policy_reply(c.action) == c.want);
}
