// dns/unbound_resolver: how one libunbound result becomes an answer, above
// all the TTL of negative answers (RFC 2308 §5). The results are built by
// hand the way libunbound 1.17 fills them; no network.
#include "dns/unbound_resolver.hpp"
#include "proto/dns_message.hpp"

#include <unbound.h>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace mxw;

namespace {

// A reply to a query for `name`/MX with `rcode`, and, when `soa_minimum` is
// set, an SOA (record TTL 600) in the authority section.
std::vector<std::uint8_t> reply(const std::string& name, int rcode, std::optional<std::uint32_t> soa_minimum)
{
    auto q = *proto::encode_dns_query(0, name, 15, 0);
    std::vector<std::uint8_t> w(q.begin(), q.end());
    w[2] |= 0x80;
    w[3] = static_cast<std::uint8_t>(0x80 | rcode);
    if (soa_minimum) {
        w[9] = 1;
        std::vector<std::uint8_t> soa = {0xc0, 12, 0, 6, 0, 1, 0, 0, 2, 88, 0, 22, 0, 0};
        for (std::uint32_t v : {1u, 7200u, 900u, 1209600u, *soa_minimum})
            for (int shift = 24; shift >= 0; shift -= 8)
                soa.push_back(static_cast<std::uint8_t>(v >> shift));
        w.insert(w.end(), soa.begin(), soa.end());
    }
    return w;
}

struct fake_result {
    std::vector<std::uint8_t> packet;
    char* no_data[1] = {nullptr};
    int no_len[1] = {0};
    ub_result r{};

    fake_result(int rcode, int ttl, std::vector<std::uint8_t> wire) : packet(std::move(wire))
    {
        r.rcode = rcode;
        r.nxdomain = rcode == 3;
        r.ttl = ttl;
        r.data = no_data;
        r.len = no_len;
        r.answer_packet = packet.empty() ? nullptr : packet.data();
        r.answer_len = static_cast<int>(packet.size());
    }
};

}  // namespace

TEST_CASE("convert_result: a negative answer without an SOA is not cached", "[unbound]")
{
    // libunbound 1.17 reports 32768 s for these (checked against a server
    // that answers NXDOMAIN and NODATA with an empty authority section).
    fake_result nx(3, 32768, reply("gone.test", 3, std::nullopt));
    auto a = dns::convert_result("gone.test", dns::rrtype::mx, 0, &nx.r);
    CHECK(a.st == dns::status::nxdomain);
    CHECK(a.ttl == 0);

    fake_result nodata(0, 32768, reply("empty.test", 0, std::nullopt));
    a = dns::convert_result("empty.test", dns::rrtype::mx, 0, &nodata.r);
    CHECK(a.st == dns::status::nodata);
    CHECK(a.ttl == 0);

    // No packet to look at: no SOA can be shown either.
    fake_result bare(3, 32768, {});
    CHECK(dns::convert_result("gone.test", dns::rrtype::mx, 0, &bare.r).ttl == 0);
}

TEST_CASE("convert_result: a negative answer with an SOA keeps the RFC 2308 TTL", "[unbound]")
{
    fake_result nx(3, 120, reply("gone.test", 3, 120));
    auto a = dns::convert_result("gone.test", dns::rrtype::mx, 0, &nx.r);
    CHECK(a.st == dns::status::nxdomain);
    CHECK(a.ttl == 120);
    // From libunbound's cache the reported TTL has counted down.
    fake_result cached(0, 45, reply("empty.test", 0, 120));
    a = dns::convert_result("empty.test", dns::rrtype::mx, 0, &cached.r);
    CHECK(a.st == dns::status::nodata);
    CHECK(a.ttl == 45);
    // The SOA bound wins over a larger reported TTL.
    fake_result big(3, 32768, reply("gone.test", 3, 300));
    CHECK(dns::convert_result("gone.test", dns::rrtype::mx, 0, &big.r).ttl == 300);
}
