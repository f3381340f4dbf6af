// Tests for milter/milter_request: macros and callback arguments -> policy
// attributes, the daemon's action -> milter verdict (reply codes, '%'
// escaping, the 980-byte reply cap, header and quarantine answers), and the
// quarantine's message capture. Pure, table-driven.
#include "milter/milter_request.hpp"
#include "proto/policy_attrs.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace mxw::milter;
namespace proto = mxw::proto;
using vk = milter_verdict::kind;

namespace {

proto::policy_request client_of(const connect_macros& m)
{
    proto::policy_request r;
    apply_client(r, m);
    return r;
}

milter_verdict verdict(std::string_view action) { return map_action(proto::parse_policy_action(action), "mxq"); }

}  // namespace

TEST_CASE("client macros map to Postfix's policy attributes", "[milter]")
{
    struct row {
        const char* label;
        connect_macros in;
        std::string address, name, reverse;
    };
    const std::vector<row> rows{
        {"Postfix, verified", {"127.0.0.20", "client-ok.mxw.test", "client-ok.mxw.test", "OK", "client-ok.mxw.test", ""},
         "127.0.0.20", "client-ok.mxw.test", "client-ok.mxw.test"},
        {"Postfix, forged PTR", {"127.0.0.21", "unknown", "client-forged.mxw.test", "FORGED", "[127.0.0.21]", ""},
         "127.0.0.21", "unknown", "client-forged.mxw.test"},
        {"Postfix, no PTR", {"127.0.0.22", "unknown", "unknown", "FAIL", "[127.0.0.22]", ""},
         "127.0.0.22", "unknown", "unknown"},
        {"temporary failure: the daemon looks again", {"127.0.0.22", "unknown", "unknown", "TEMP", "[127.0.0.22]", ""},
         "127.0.0.22", "unknown", "unknown"},
        {"Sendmail, no PTR: name is [ip]", {"127.0.0.22", "[127.0.0.22]", "", "FAIL", "[127.0.0.22]", ""},
         "127.0.0.22", "unknown", "unknown"},
        {"Sendmail, forged: name says nothing unless OK",
         {"127.0.0.21", "client-forged.mxw.test", "client-forged.mxw.test", "FORGED", "[127.0.0.21]", ""},
         "127.0.0.21", "unknown", "client-forged.mxw.test"},
        {"Sendmail IPv6 client address", {"IPv6:2001:db8::7", "[IPv6:2001:db8::7]", "", "FAIL", "", ""},
         "2001:db8::7", "unknown", "unknown"},
        {"resolve status is case-blind", {"127.0.0.20", "a.example", "", "ok", "", ""},
         "127.0.0.20", "a.example", "a.example"},
        {"no macros at all: hostname argument and socket address",
         {"", "", "", "", "client-ok.mxw.test", "127.0.0.20"}, "127.0.0.20", "client-ok.mxw.test", "client-ok.mxw.test"},
        {"no macros, unresolved client", {"", "", "", "", "[127.0.0.22]", "127.0.0.22"},
         "127.0.0.22", "unknown", "unknown"},
        {"bracketed address macro", {"[127.0.0.9]", "", "", "", "", ""}, "127.0.0.9", "unknown", "unknown"},
        {"nothing known", {}, "", "unknown", "unknown"},
    };
    for (const auto& r : rows) {
        INFO(r.label);
        auto req = client_of(r.in);
        CHECK(req.client_address == r.address);
        CHECK(req.client_name == r.name);
        CHECK(req.reverse_client_name == r.reverse);
    }
}

TEST_CASE("malformed macros never break the policy request", "[milter]")
{
    connect_macros m;
    m.client_addr = "127.0.0.1\nrequest=evil";
    m.client_name = std::string(5000, 'a');
    m.client_resolve = "OK";
    m.client_ptr = "x\r\ny";
    auto req = client_of(m);
    CHECK(req.client_address == "127.0.0.1?request=evil");
    CHECK(req.client_name.size() == max_attribute_bytes);
    CHECK(req.reverse_client_name == "x??y");
    req.protocol_state = "RCPT";
    // The encoded request is one request: decoding it gives it back.
    std::string wire = proto::encode_policy_request(req);
    proto::policy_decoder d;
    REQUIRE(d.feed(wire) == proto::step::frame);
    CHECK(d.consumed() == wire.size());
    CHECK(d.request() == req);
}

TEST_CASE("envelope arguments lose brackets and source routes", "[milter]")
{
    struct row {
        const char* in;
        const char* want;
    };
    const std::vector<row> rows{
        {"<a@good.mxw.test>", "a@good.mxw.test"},
        {"<>", ""},
        {"a@b.example", "a@b.example"},
        {"<@relay.example,@r2.example:a@b.example>", "a@b.example"},
        {"<@broken-route>", ""},
        {"", ""},
        {"<a\r\n@b>", "a??@b"},
    };
    for (const auto& r : rows) {
        INFO(r.in);
        CHECK(envelope_address(r.in) == r.want);
    }
    CHECK(envelope_address("<" + std::string(3000, 'x') + ">").size() == max_attribute_bytes);
}

TEST_CASE("protocol states are the daemon's names", "[milter]")
{
    CHECK(protocol_state(stage::connect) == "CONNECT");
    CHECK(protocol_state(stage::mail) == "MAIL");
    CHECK(protocol_state(stage::rcpt) == "RCPT");
    CHECK(protocol_state(stage::end_of_message) == "END-OF-MESSAGE");
}

TEST_CASE("daemon answers map to milter verdicts", "[milter]")
{
    struct row {
        const char* action;
        vk what;
        const char* rcode;
        const char* xcode;
        const char* text;
    };
    const std::vector<row> rows{
        {"DUNNO", vk::proceed, "", "", ""},
        {"OK", vk::proceed, "", "", ""},
        {"550 5.7.27 sender domain nullmx.mxw.test does not accept mail (null MX, RFC 7505)", vk::reject, "550",
         "5.7.27", "sender domain nullmx.mxw.test does not accept mail (null MX, RFC 7505)"},
        {"550 5.7.25 client address 127.0.0.22 has no PTR record", vk::reject, "550", "5.7.25",
         "client address 127.0.0.22 has no PTR record"},
        {"450 4.1.8 sender domain x does not exist", vk::tempfail, "450", "4.1.8", "sender domain x does not exist"},
        {"451 4.4.3 cannot verify", vk::tempfail, "451", "4.4.3", "cannot verify"},
        {"DEFER_IF_PERMIT wait", vk::tempfail, "450", "4.7.1", "wait"},
        {"REJECT", vk::reject, "554", "5.7.1", "Access denied"},
        {"421 4.3.2 closing", vk::tempfail, "421", "4.3.2", "closing"},
        {"550 100% sure", vk::reject, "550", "", "100%% sure"},
        {"DISCARD", vk::discard, "", "", ""},
        {"HOLD", vk::proceed, "", "", ""},
        {"WARN x", vk::proceed, "", "", ""},
        {"REDIRECT a@b", vk::proceed, "", "", ""},
        {"FILTER smtp:[127.0.0.1]:10025", vk::proceed, "", "", ""},
        {"", vk::proceed, "", "", ""},
    };
    for (const auto& r : rows) {
        INFO(r.action);
        auto v = verdict(r.action);
        CHECK(v.what == r.what);
        CHECK(v.rcode == r.rcode);
        CHECK(v.xcode == r.xcode);
        CHECK(v.text == r.text);
    }
    CHECK_FALSE(verdict("HOLD").note.empty());
    CHECK_FALSE(verdict("").note.empty());
}

TEST_CASE("PREPEND becomes a header, FILTER to the quarantine transport a quarantine", "[milter]")
{
    auto t = verdict("PREPEND X-Mxwarden: client=not-confirmed 127.0.0.21");
    CHECK(t.what == vk::tag);
    CHECK(t.header_name == "X-Mxwarden");
    CHECK(t.header_value == "client=not-confirmed 127.0.0.21");

    CHECK(verdict("PREPEND no header name here").what == vk::proceed);
    CHECK(verdict("PREPEND Bad Name: x").what == vk::proceed);
    auto tabbed = verdict("PREPEND X-A:\tv\x01w");
    CHECK(tabbed.header_value == "v w");
    auto long_tag = verdict("PREPEND X-Long: " + std::string(2000, 'v'));
    CHECK(long_tag.header_name.size() + 2 + long_tag.header_value.size() == max_header_line_bytes);

    auto q = verdict("FILTER mxq:client-no-ptr");
    CHECK(q.what == vk::quarantine);
    CHECK(q.reason == "client-no-ptr");
    CHECK(verdict("FILTER mxq:").reason == "unspecified");
    CHECK(verdict("FILTER mxq:" + std::string(101, 'r')).reason == "unspecified");
    CHECK(verdict("FILTER mxq:" + std::string(100, 'r')).reason == std::string(100, 'r'));
    CHECK(map_action(proto::parse_policy_action("FILTER quarantine:x"), "quarantine").what == vk::quarantine);
    CHECK(map_action(proto::parse_policy_action("FILTER mxq:x"), "quarantine").what == vk::proceed);
}

TEST_CASE("reply text is escaped and capped for smfi_setreply", "[milter]")
{
    CHECK(escape_reply_text("a%b") == "a%%b");
    CHECK(escape_reply_text("%%") == "%%%%");
    CHECK(escape_reply_text("line\r\nbreak\ttab") == "line  break tab");
    const std::string at_cap(max_reply_text_bytes, 'x');
    CHECK(escape_reply_text(at_cap) == at_cap);
    CHECK(escape_reply_text(at_cap + "y") == at_cap);
    // A '%' that would end one byte past the cap is left out whole, never
    // split into a lone '%'.
    std::string near(max_reply_text_bytes - 1, 'x');
    auto e = escape_reply_text(near + "%");
    CHECK(e == near);
    auto fits = escape_reply_text(std::string(max_reply_text_bytes - 2, 'x') + "%");
    CHECK(fits.size() == max_reply_text_bytes);
    CHECK(fits.ends_with("%%"));
    auto all = escape_reply_text(std::string(2000, '%'));
    CHECK(all.size() == max_reply_text_bytes);
    CHECK(verdict("550 5.7.1 " + std::string(1500, 'z')).text.size() == max_reply_text_bytes);
}

TEST_CASE("on-error verdicts", "[milter]")
{
    CHECK(on_error_verdict(false).what == vk::proceed);
    auto t = on_error_verdict(true);
    CHECK(t.what == vk::tempfail);
    CHECK(t.rcode == "451");
    CHECK(t.xcode == "4.3.0");
}

TEST_CASE("message capture keeps the whole message, CRLF throughout, within its cap", "[milter]")
{
    message_capture c(1000);
    c.add_header("Subject", " hello", true);
    c.add_header("X-Folded", "a\n\tb", false);
    c.add_header("X-Crlf", " a\r\n b", true);
    c.end_of_headers();
    c.add_body("line 1\r\n");
    c.add_body("line 2\r\n");
    CHECK_FALSE(c.overflowed());
    CHECK(c.data() == "Subject: hello\r\nX-Folded: a\r\n\tb\r\nX-Crlf: a\r\n b\r\n\r\nline 1\r\nline 2\r\n");

    message_capture exact(10);
    exact.add_body("0123456789");
    CHECK_FALSE(exact.overflowed());
    CHECK(exact.data().size() == 10);
    exact.add_body("x");
    CHECK(exact.overflowed());
    CHECK(exact.data().empty());
    CHECK(exact.total_bytes() == 11);
}
