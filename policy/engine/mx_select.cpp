#include "engine/mx_select.hpp"

#include <algorithm>

namespace mxw::engine {
namespace {

void add_evidence(route_dns& r, const dns::answer& a)
{
    if (!r.evidence.empty())
        r.evidence.append("; ");
    r.evidence.append(dns::describe(a));
    if (dns::is_temporary(a.st) && r.failed == dns::status::ok)
        r.failed = a.st;
}

void take_ttl(route_dns& r, const dns::answer& a, bool& first)
{
    r.ttl = first ? a.ttl : std::min(r.ttl, a.ttl);
    first = false;
}

std::vector<dns::rrtype> types_for(family_order f)
{
    switch (f) {
    case family_order::ipv4_first: return {dns::rrtype::a, dns::rrtype::aaaa};
    case family_order::ipv6_first: return {dns::rrtype::aaaa, dns::rrtype::a};
    case family_order::ipv4_only: return {dns::rrtype::a};
    case family_order::ipv6_only: return {dns::rrtype::aaaa};
    }
    return {dns::rrtype::a};
}

// Looks up the addresses of one host; counts temporary failures.
asio::awaitable<std::vector<std::string>> addresses_of(dns::resolver& r, const std::string& host, family_order f,
                                                       route_dns& out, bool& first_ttl, bool& temporary,
                                                       dns::clock::time_point deadline)
{
    std::vector<std::string> addrs;
    for (auto type : types_for(f)) {
        dns::answer a = co_await r.lookup(host, type, deadline);
        add_evidence(out, a);
        if (a.st == dns::status::ok) {
            take_ttl(out, a, first_ttl);
            addrs.insert(addrs.end(), a.values.begin(), a.values.end());
        } else if (dns::is_temporary(a.st)) {
            temporary = true;
        }
    }
    co_return addrs;
}

}  // namespace

std::string_view to_string(route_dns::kind k) noexcept
{
    switch (k) {
    case route_dns::kind::mx: return "mx";
    case route_dns::kind::implicit: return "implicit-mx";
    case route_dns::kind::null_mx: return "null-mx";
    case route_dns::kind::nxdomain: return "nxdomain";
    case route_dns::kind::tempfail: return "tempfail";
    case route_dns::kind::no_address: return "no-address";
    }
    return "?";
}

void order_mx(std::vector<proto::mx_rdata>& mx, std::mt19937_64& rng)
{
    std::sort(mx.begin(), mx.end(), [](const auto& a, const auto& b) { return a.preference < b.preference; });
    for (auto run = mx.begin(); run != mx.end();) {
        auto end = std::find_if(run, mx.end(), [&](const auto& m) { return m.preference != run->preference; });
        std::shuffle(run, end, rng);
        run = end;
    }
}

asio::awaitable<route_dns> resolve_host(dns::resolver& r, const std::string& host, family_order families,
                                        dns::clock::time_point deadline)
{
    route_dns out;
    if (auto ip = proto::canonical_address(host)) {
        out.k = route_dns::kind::implicit;
        out.ttl = 86400;
        out.hosts.push_back(mx_host{0, host, {*ip}});
        out.evidence = "address literal " + *ip;
        co_return out;
    }
    bool first_ttl = true, temporary = false;
    auto addrs = co_await addresses_of(r, host, families, out, first_ttl, temporary, deadline);
    if (addrs.empty()) {
        out.k = route_dns::kind::tempfail;
        co_return out;
    }
    out.k = route_dns::kind::implicit;
    out.hosts.push_back(mx_host{0, host, std::move(addrs)});
    co_return out;
}

asio::awaitable<route_dns> resolve_route(dns::resolver& r, const std::string& domain, mx_limits limits,
                                         std::mt19937_64& rng, dns::clock::time_point deadline)
{
    route_dns out;
    bool first_ttl = true;
    dns::answer mx = co_await r.lookup(domain, dns::rrtype::mx, deadline);
    add_evidence(out, mx);
    if (dns::is_temporary(mx.st)) {
        out.k = route_dns::kind::tempfail;
        co_return out;
    }
    take_ttl(out, mx, first_ttl);
    if (mx.st == dns::status::nxdomain) {
        out.k = route_dns::kind::nxdomain;
        co_return out;
    }
    bool temporary = false;
    if (mx.st == dns::status::nodata) {
        auto addrs = co_await addresses_of(r, domain, limits.families, out, first_ttl, temporary, deadline);
        if (!addrs.empty()) {
            out.k = route_dns::kind::implicit;
            out.hosts.push_back(mx_host{0, domain, std::move(addrs)});
        } else {
            out.k = temporary ? route_dns::kind::tempfail : route_dns::kind::nxdomain;
        }
        co_return out;
    }
    // RFC 7505 §3: a null MX is a lone MX with an empty exchange.
    if (mx.mx.size() == 1 && mx.mx.front().exchange.empty()) {
        out.k = route_dns::kind::null_mx;
        co_return out;
    }
    std::vector<proto::mx_rdata> records = mx.mx;
    order_mx(records, rng);
    for (const auto& rec : records) {
        if (rec.exchange.empty())
            continue;  // a null MX beside real ones is noise; skip it
        if (out.hosts.size() >= limits.max_hosts)
            break;
        auto addrs = co_await addresses_of(r, rec.exchange, limits.families, out, first_ttl, temporary, deadline);
        if (!addrs.empty())
            out.hosts.push_back(mx_host{rec.preference, rec.exchange, std::move(addrs)});
    }
    if (!out.hosts.empty())
        out.k = route_dns::kind::mx;
    else
        out.k = temporary ? route_dns::kind::tempfail : route_dns::kind::no_address;
    co_return out;
}

}  // namespace mxw::engine
