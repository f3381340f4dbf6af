// proto/dns_message: the queries `mxwarden doctor` sends and the replies it
// reads, byte by byte: header flags, EDNS, compression, truncation, and
// every way a hostile reply can overrun.
#include "proto/dns_message.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace mxw::proto;

namespace {

std::vector<std::uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }

// A reply to the query: same bytes with QR set and records appended.
std::vector<std::uint8_t> reply_to(std::string q, std::uint16_t flags_or, std::uint16_t ancount,
                                   const std::vector<std::uint8_t>& records)
{
    auto w = bytes(q);
    std::uint16_t flags = static_cast<std::uint16_t>((w[2] << 8 | w[3]) | 0x8000 | flags_or);
    w[2] = static_cast<std::uint8_t>(flags >> 8);
    w[3] = static_cast<std::uint8_t>(flags);
    w[6] = static_cast<std::uint8_t>(ancount >> 8);
    w[7] = static_cast<std::uint8_t>(ancount);
    w.insert(w.end(), records.begin(), records.end());
    return w;
}

}  // namespace

TEST_CASE("encode_dns_query: header, question and OPT as RFC 1035 and 6891 lay them out", "[dns_message]")
{
    auto q = encode_dns_query(0x1234, "Mx.Example.", 15, 1232);
    REQUIRE(q);
    const std::string want = std::string("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x01", 12) +
                             std::string("\x02Mx\x07" "Example\x00\x00\x0f\x00\x01", 16) +
                             std::string("\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00", 11);
    CHECK(*q == want);
    auto plain = encode_dns_query(1, "example", 1, 0);
    REQUIRE(plain);
    CHECK(plain->size() == 12 + 9 + 4);
    CHECK((*plain)[11] == 0);  // no additional record without EDNS
}

TEST_CASE("encode_dns_query refuses names it cannot spell", "[dns_message]")
{
    CHECK_FALSE(encode_dns_query(1, "a..b", 1, 0));
    CHECK_FALSE(encode_dns_query(1, std::string(64, 'a'), 1, 0));
    CHECK(encode_dns_query(1, std::string(63, 'a'), 1, 0));
    CHECK_FALSE(encode_dns_query(1, "sp ace.example", 1, 0));
    std::string long_name;
    for (int i = 0; i < 4; ++i)
        long_name += std::string(63, 'a') + ".";
    CHECK_FALSE(encode_dns_query(1, long_name, 1, 0));  // 257 wire bytes
    long_name = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
                std::string(61, 'd');  // 255 wire bytes
    CHECK(encode_dns_query(1, long_name, 1, 0));
}

TEST_CASE("parse_dns_reply reads records with compressed names, OPT and flags", "[dns_message]")
{
    auto q = *encode_dns_query(9, "ex.test", 15, 0);
    // MX 10 mx.ex.test (exchange "mx" + pointer to the question name at 12),
    // then A for mx.ex.test (owner a pointer to the exchange), then OPT.
    std::vector<std::uint8_t> rr = {0xc0, 12, 0, 15, 0, 1, 0, 0, 1, 44, 0, 7, 0, 10, 2, 'm', 'x', 0xc0, 12};
    std::size_t exchange_at = 12 + (q.size() - 12) + 12 + 2;
    std::vector<std::uint8_t> a = {0xc0, static_cast<std::uint8_t>(exchange_at), 0, 1, 0, 1, 0, 0, 0, 60, 0, 4,
                                   192, 0, 2, 25};
    rr.insert(rr.end(), a.begin(), a.end());
    auto w = reply_to(q, 0x0480 | 2, 2, rr);
    std::vector<std::uint8_t> opt = {0, 0, 41, 0x10, 0x00, 1, 0, 0, 0, 0, 0};  // ext rcode 1 -> 16 + 2
    w.insert(w.end(), opt.begin(), opt.end());
    w[11] = 1;
    auto r = parse_dns_reply(w);
    REQUIRE(r);
    CHECK(r->id == 9);
    CHECK(r->authoritative);
    CHECK(r->recursion_available);
    CHECK_FALSE(r->truncated);
    CHECK(r->has_opt);
    CHECK(r->edns_size == 4096);
    CHECK(r->rcode == 18);
    REQUIRE(r->answers.size() == 2);
    CHECK(r->answers[0].name == "ex.test");
    CHECK(r->answers[0].type == 15);
    CHECK(r->answers[0].ttl == 300);
    CHECK(r->answers[0].rdata_text == "10 mx.ex.test");
    CHECK(r->answers[1].name == "mx.ex.test");
    CHECK(r->answers[1].rdata_text == "192.0.2.25");
    CHECK(dns_rcode_name(2) == "SERVFAIL");
    CHECK(dns_rcode_name(5) == "REFUSED");
    CHECK(dns_rcode_name(18) == "RCODE18");
}

TEST_CASE("parse_dns_reply: truncated replies keep what arrived; others must be whole", "[dns_message]")
{
    auto q = *encode_dns_query(3, "ex.test", 1, 0);
    std::vector<std::uint8_t> a = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1};
    auto whole = reply_to(q, 0, 2, a);  // claims two answers, has one
    CHECK_FALSE(parse_dns_reply(whole));
    auto tc = reply_to(q, 0x0200, 2, a);
    auto r = parse_dns_reply(tc);
    REQUIRE(r);
    CHECK(r->truncated);
    CHECK(r->answers.size() == 1);
    // Cut at every byte: never a crash, never a record past the cut.
    auto one = reply_to(q, 0, 1, a);
    REQUIRE(parse_dns_reply(one));
    for (std::size_t n = 0; n < one.size(); ++n) {
        std::vector<std::uint8_t> cut(one.begin(), one.begin() + static_cast<std::ptrdiff_t>(n));
        CHECK_FALSE(parse_dns_reply(cut));
    }
}

TEST_CASE("parse_dns_reply refuses loops, forward pointers and queries", "[dns_message]")
{
    auto q = *encode_dns_query(3, "ex.test", 1, 0);
    CHECK_FALSE(parse_dns_reply(bytes(q)));  // QR clear: a query, not a reply
    std::uint8_t self = static_cast<std::uint8_t>(q.size());
    std::vector<std::uint8_t> loop = {0xc0, self, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1};
    CHECK_FALSE(parse_dns_reply(reply_to(q, 0, 1, loop)));
    std::vector<std::uint8_t> fwd = {0xc0, static_cast<std::uint8_t>(self + 2), 0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 0};
    CHECK_FALSE(parse_dns_reply(reply_to(q, 0, 1, fwd)));
    std::vector<std::uint8_t> bad_label = {0x80, 0, 1, 0, 1, 0, 0, 0, 60, 0, 0};
    CHECK_FALSE(parse_dns_reply(reply_to(q, 0, 1, bad_label)));
    std::vector<std::uint8_t> short_mx = {0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, 1, 0};
    auto r = parse_dns_reply(reply_to(q, 0, 1, short_mx));
    REQUIRE(r);
    CHECK(r->answers[0].rdata_text == "malformed");
}

namespace {

// An NXDOMAIN reply to `q` whose authority section holds `ns` (nscount 1
// when not empty).
std::vector<std::uint8_t> negative_reply(const std::string& q, const std::vector<std::uint8_t>& ns)
{
    auto w = reply_to(q, 0x0080 | 3, 0, ns);
    w[9] = ns.empty() ? 0 : 1;
    return w;
}

// SOA for the question name (pointer to 12): mname ".", rname ".", then
// serial, refresh, retry, expire, minimum; record TTL `ttl`.
std::vector<std::uint8_t> soa_record(std::uint32_t ttl, std::uint32_t minimum)
{
    auto be32 = [](std::uint32_t v) {
        return std::vector<std::uint8_t>{static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
                                         static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
    };
    std::vector<std::uint8_t> rr = {0xc0, 12, 0, 6, 0, 1};
    auto t = be32(ttl);
    rr.insert(rr.end(), t.begin(), t.end());
    rr.insert(rr.end(), {0, 22, 0, 0});
    for (std::uint32_t v : {1u, 7200u, 900u, 1209600u, minimum}) {
        auto b = be32(v);
        rr.insert(rr.end(), b.begin(), b.end());
    }
    return rr;
}

}  // namespace

TEST_CASE("parse_dns_reply: the negative TTL is min(SOA TTL, MINIMUM), none without an SOA", "[dns_message]")
{
    auto q = *encode_dns_query(4, "gone.test", 15, 0);
    auto r = parse_dns_reply(negative_reply(q, soa_record(600, 120)));
    REQUIRE(r);
    CHECK(r->rcode == 3);
    CHECK(r->negative_ttl == 120u);
    r = parse_dns_reply(negative_reply(q, soa_record(30, 3600)));
    REQUIRE(r);
    CHECK(r->negative_ttl == 30u);
    // RFC 2308 §5: without an SOA there is nothing to cache by.
    r = parse_dns_reply(negative_reply(q, {}));
    REQUIRE(r);
    CHECK_FALSE(r->negative_ttl);
    // An SOA in the answer section is data, not a negative-caching bound.
    auto in_answer = reply_to(q, 0x0080, 1, soa_record(600, 120));
    r = parse_dns_reply(in_answer);
    REQUIRE(r);
    CHECK_FALSE(r->negative_ttl);
    // SOA RDATA too short for its fixed fields is ignored.
    auto short_soa = std::vector<std::uint8_t>{0xc0, 12, 0, 6, 0, 1, 0, 0, 2, 88, 0, 4, 0, 0, 0, 1};
    r = parse_dns_reply(negative_reply(q, short_soa));
    REQUIRE(r);
    CHECK_FALSE(r->negative_ttl);
}
