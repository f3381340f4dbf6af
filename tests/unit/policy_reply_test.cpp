// Tests for proto/policy_reply: the policy reply decoder the milter reads
// mxwardend's answers with, and the classification of access(5) action
// texts. Limits are the request's, tested at the value and one past it;
// feeding is tested at every split.
#include "proto/errors.hpp"
#include "proto/limits.hpp"
#include "proto/policy_attrs.hpp"
#include "proto/policy_reply.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using mxw::proto::parse_policy_action;
using mxw::proto::policy_action;
using mxw::proto::policy_reply_decoder;
using mxw::proto::proto_errc;
using mxw::proto::step;
namespace proto = mxw::proto;
using kind = policy_action::kind;

namespace {

// Feeds `wire` in pieces of `piece` bytes; returns the actions of every frame.
std::vector<std::string> decode(const std::string& wire, std::size_t piece, std::error_code* err = nullptr)
{
    policy_reply_decoder d;
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < wire.size()) {
        std::string_view p = std::string_view(wire).substr(pos, piece);
        while (!p.empty()) {
            step s = d.feed(p);
            if (s == step::error) {
                if (err)
                    *err = d.error();
                return out;
            }
            if (s == step::frame)
                out.push_back(d.action());
            pos += d.consumed();
            p.remove_prefix(d.consumed());
        }
    }
    return out;
}

}  // namespace

TEST_CASE("policy reply decoder: frames at every split", "[policy_reply][milter]")
{
    const std::string wire = proto::encode_policy_reply("550 5.7.27 sender domain x does not accept mail") +
                             proto::encode_policy_reply("DUNNO") + "foo=bar\naction=PREPEND X-A: b\nx=y\n\n";
    const std::vector<std::string> want{"550 5.7.27 sender domain x does not accept mail", "DUNNO", "PREPEND X-A: b"};
    for (std::size_t piece = 1; piece <= wire.size(); ++piece) {
        INFO("piece " << piece);
        REQUIRE(decode(wire, piece) == want);
    }
}

TEST_CASE("policy reply decoder: malformed and oversized replies", "[policy_reply][milter]")
{
    struct row {
        const char* label;
        std::string wire;
        proto_errc want;
    };
    const std::string line_at_limit = "action=" + std::string(proto::max_policy_line_bytes - 7, 'a');
    std::vector<row> rows{
        {"no equals", "action\n\n", proto_errc::missing_equals},
        {"empty name", "=x\n\n", proto_errc::empty_name},
        {"NUL", std::string("action=a\0b\n\n", 12), proto_errc::nul_byte},
        {"line one past the limit", line_at_limit + "a\n\n", proto_errc::line_too_long},
    };
    std::string many;
    for (std::size_t i = 0; i <= proto::max_policy_attributes; ++i)
        many += "a=b\n";
    rows.push_back({"one attribute too many", many + "\n", proto_errc::too_many_attributes});
    std::string big;
    while (big.size() < proto::max_policy_request_bytes)
        big += "x=" + std::string(1000, 'b') + "\n";
    rows.push_back({"reply too long", big + "\n", proto_errc::request_too_long});
    for (const auto& r : rows) {
        INFO(r.label);
        std::error_code ec;
        decode(r.wire, r.wire.size(), &ec);
        REQUIRE(ec == r.want);
    }
    // At the line limit it still decodes.
    REQUIRE(decode(line_at_limit + "\n\n", 7) == std::vector<std::string>{line_at_limit.substr(7)});
}

TEST_CASE("policy reply decoder: a reply without action is a frame with none", "[policy_reply][milter]")
{
    REQUIRE(decode("\n", 1) == std::vector<std::string>{""});
    REQUIRE(parse_policy_action("").what == kind::invalid);
}

TEST_CASE("policy actions are classified as Postfix reads them", "[policy_reply][milter]")
{
    struct row {
        const char* action;
        policy_action want;
    };
    const std::vector<row> rows{
        {"DUNNO", {kind::dunno, "", "", ""}},
        {"dunno", {kind::dunno, "", "", ""}},
        {"OK", {kind::ok, "", "", ""}},
        {"DEFER_IF_REJECT later", {kind::dunno, "", "", ""}},
        {"550 5.7.27 sender domain x does not accept mail (null MX, RFC 7505)",
         {kind::reject, "550", "5.7.27", "sender domain x does not accept mail (null MX, RFC 7505)"}},
        {"450 4.1.8 no such domain", {kind::defer, "450", "4.1.8", "no such domain"}},
        {"451 4.4.3 try later", {kind::defer, "451", "4.4.3", "try later"}},
        {"550 no enhanced code", {kind::reject, "550", "", "no enhanced code"}},
        {"550 4.1.8 class mismatch", {kind::reject, "550", "", "4.1.8 class mismatch"}},
        {"550 5.1234.1 not an enhanced code", {kind::reject, "550", "", "5.1234.1 not an enhanced code"}},
        {"550 5.7.1", {kind::reject, "550", "5.7.1", ""}},
        {"550", {kind::reject, "550", "", ""}},
        {"REJECT", {kind::reject, "554", "5.7.1", "Access denied"}},
        {"reject 5.7.9 go away", {kind::reject, "554", "5.7.9", "go away"}},
        {"DEFER", {kind::defer, "450", "4.7.1", "Try again later"}},
        {"DEFER_IF_PERMIT 4.7.25 client unverified", {kind::defer, "450", "4.7.25", "client unverified"}},
        {"PREPEND X-Mxwarden: client=no-ptr 127.0.0.22", {kind::prepend, "", "", "X-Mxwarden: client=no-ptr 127.0.0.22"}},
        {"PREPEND", {kind::invalid, "", "", ""}},
        {"FILTER mxq:client-no-ptr", {kind::filter, "", "", "mxq:client-no-ptr"}},
        {"FILTER", {kind::invalid, "", "", ""}},
        {"DISCARD spam", {kind::discard, "", "", "spam"}},
        {"HOLD", {kind::hold, "", "", ""}},
        {"WARN look", {kind::warn, "", "", "look"}},
        {"REDIRECT a@b", {kind::unsupported, "", "", "REDIRECT a@b"}},
        {"650 not a reply code", {kind::unsupported, "", "", "650 not a reply code"}},
        {"55 short", {kind::unsupported, "", "", "55 short"}},
        {"   ", {kind::invalid, "", "", ""}},
    };
    for (const auto& r : rows) {
        INFO(r.action);
        REQUIRE(parse_policy_action(r.action) == r.want);
    }
}
