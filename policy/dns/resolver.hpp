// dns/resolver.hpp: the asynchronous resolver interface the engine sees.
// DNS outcomes are values (NXDOMAIN is normal flow, not an exception). The
// daemon implements it with libunbound (dns/unbound_resolver.hpp); unit tests
// with a scripted resolver (tests/support/scripted_resolver.hpp).
#pragma once
#include "net/asio.hpp"
#include "proto/dns_rdata.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mxw::dns {

using clock = std::chrono::steady_clock;

enum class status { ok, nodata, nxdomain, servfail, timeout, bogus };
inline constexpr std::size_t status_count = 6;
enum class rrtype : std::uint16_t { a = 1, ptr = 12, mx = 15, aaaa = 28 };

std::string_view to_string(status s) noexcept;
std::string_view to_string(rrtype t) noexcept;

/// True for outcomes that may change on retry (the mail should wait).
constexpr bool is_temporary(status s) noexcept
{
    return s == status::servfail || s == status::timeout || s == status::bogus;
}

struct answer {
    std::string name;  ///< as asked, lower case, no trailing dot
    rrtype type = rrtype::a;
    status st = status::servfail;
    bool secure = false;           ///< DNSSEC-validated (dns.dnssec = validate)
    std::uint32_t ttl = 0;         ///< seconds; for negative answers the SOA minimum
    std::vector<proto::mx_rdata> mx;   ///< type MX
    std::vector<std::string> values;   ///< type A/AAAA: addresses; PTR: names
    std::string detail;            ///< why, when st is not ok/nodata/nxdomain
};

/// One-line evidence, e.g. "MX nullmx.mxw.test ok ttl=300 [0 .]".
std::string describe(const answer& a);

class resolver {
public:
    virtual ~resolver() = default;
    /// Looks up `name`/`type`. Completes on the caller's executor no later
    /// than `deadline` (then with status::timeout). Never throws for DNS
    /// trouble. Loop thread only.
    /// `name` must outlive the awaitable (co_await it at once; see
    /// engine/client_check.hpp on g++ 12 and by-value coroutine arguments).
    virtual asio::awaitable<answer> lookup(const std::string& name, rrtype type, clock::time_point deadline) = 0;
};

}  // namespace mxw::dns
