// engine/mx_select.hpp: where mail for a domain may go, per RFC 5321 §5.1
// and RFC 7505. MX records sorted by preference with equal preferences
// shuffled; no MX means the domain's own address (implicit MX); a null MX
// means no mail at all. Addresses are looked up per host through the
// resolver, in the configured family order, and capped.
#pragma once
#include "dns/resolver.hpp"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace mxw::engine {

enum class family_order { ipv4_first, ipv6_first, ipv4_only, ipv6_only };

struct mx_host {
    std::uint16_t preference = 0;
    std::string name;
    std::vector<std::string> addresses;
};

struct route_dns {
    enum class kind {
        mx,          ///< MX hosts with addresses
        implicit,    ///< no MX; the domain's own address
        null_mx,     ///< RFC 7505: the domain takes no mail
        nxdomain,    ///< the domain does not exist, or has neither MX nor address
        tempfail,    ///< DNS failed; try again later
        no_address,  ///< MX hosts exist but none has an address
    };
    kind k = kind::tempfail;
    std::vector<mx_host> hosts;  ///< in delivery order
    std::string evidence;        ///< every lookup, "; "-separated
    /// The first lookup that failed for a reason that may pass (servfail,
    /// timeout, bogus): what `mxwarden health` names a tempfail by; ok
    /// when none did.
    dns::status failed = dns::status::ok;
    std::uint32_t ttl = 0;       ///< smallest TTL of the answers used
};
std::string_view to_string(route_dns::kind k) noexcept;

/// Sorts by preference and shuffles each run of equal preferences (RFC
/// 5321 §5.1: spread the load), using `rng` so tests can fix the order.
void order_mx(std::vector<proto::mx_rdata>& mx, std::mt19937_64& rng);

struct mx_limits {
    family_order families = family_order::ipv4_first;
    std::size_t max_hosts = 10;  ///< MX hosts whose addresses are looked up
};

/// The addresses of one host (a smart host): an IP literal is used as it
/// is; a name is looked up in the configured family order. NXDOMAIN counts
/// as a failure here: a smart host that vanished from DNS is an outage,
/// not a reason to bounce all mail. `host` must outlive the awaitable.
asio::awaitable<route_dns> resolve_host(dns::resolver& r, const std::string& host, family_order families,
                                        dns::clock::time_point deadline);

/// `domain` must outlive the awaitable (co_await it at once).
asio::awaitable<route_dns> resolve_route(dns::resolver& r, const std::string& domain, mx_limits limits,
                                         std::mt19937_64& rng, dns::clock::time_point deadline);

}  // namespace mxw::engine
