#include "engine/dns_filter.hpp"

#include <algorithm>

namespace mxw::engine {
namespace {

const dns_filter_host* find_host(const dns_filter_snapshot& s, const std::string& name)
{
    auto it = std::ranges::find(s.hosts, name, &dns_filter_host::name);
    return it == s.hosts.end() ? nullptr : &*it;
}

bool is_ipv6(const std::string& address) { return address.find(':') != std::string::npos; }

// An address not yet probed counts as usable: the filter drops only what a
// probe has shown to be dead, and leaves the rest to Postfix.
bool usable(const dns_filter_address& a) { return a.state != health_state::dead; }

dns_filter_decision keep(dns_filter_reason why) { return {dns_filter_action::keep, why}; }

dns_filter_decision decide_mx(const proto::dns_filter_record& record, const dns_filter_snapshot& snapshot)
{
    if (record.value.empty())
        return keep(dns_filter_reason::null_mx);
    const dns_filter_host* host = find_host(snapshot, record.value);
    if (host == nullptr || host->addresses.empty())
        return keep(dns_filter_reason::unknown_owner);
    if (std::ranges::any_of(host->addresses, usable))
        return keep(dns_filter_reason::not_dead);
    // Postfix asks about each MX record on its own, so "another host is
    // usable" is what keeps the last MX: a usable address is itself never
    // dropped, so that host's MX and at least that address survive. A host
    // whose addresses are not known yet does not count, as its name may
    // not even resolve.
    bool alternative = std::ranges::any_of(snapshot.hosts, [&](const dns_filter_host& other) {
        return other.name != host->name && std::ranges::any_of(other.addresses, usable);
    });
    if (!alternative)
        return keep(dns_filter_reason::last_usable);
    return {dns_filter_action::ignore, dns_filter_reason::dead};
}

dns_filter_decision decide_address(const proto::dns_filter_record& record, const dns_filter_snapshot& snapshot)
{
    const dns_filter_host* host = find_host(snapshot, record.owner);
    if (host == nullptr)
        return keep(dns_filter_reason::unknown_owner);
    auto self = std::ranges::find(host->addresses, record.value, &dns_filter_address::address);
    if (self == host->addresses.end())
        return keep(dns_filter_reason::unknown_owner);
    if (usable(*self))
        return keep(dns_filter_reason::not_dead);
    // Only a sibling of the same family counts: a Postfix limited to one
    // family (inet_protocols) would find nothing left to try if an IPv4
    // record were dropped in favour of an IPv6 one.
    bool v6 = is_ipv6(record.value);
    bool alternative = std::ranges::any_of(host->addresses, [&](const dns_filter_address& a) {
        return a.address != record.value && is_ipv6(a.address) == v6 && usable(a);
    });
    if (!alternative)
        return keep(dns_filter_reason::last_usable);
    return {dns_filter_action::ignore, dns_filter_reason::dead};
}

}  // namespace

std::string_view to_string(dns_filter_reason r) noexcept
{
    switch (r) {
    case dns_filter_reason::not_filtered: return "not-filtered";
    case dns_filter_reason::null_mx: return "null-mx";
    case dns_filter_reason::unknown_owner: return "unknown";
    case dns_filter_reason::not_dead: return "not-dead";
    case dns_filter_reason::last_usable: return "last-usable";
    case dns_filter_reason::dead: return "dead";
    }
    return "?";
}

dns_filter_decision decide_dns_filter(const proto::dns_filter_record& record, const dns_filter_snapshot& snapshot)
{
    switch (record.type) {
    case proto::dns_filter_type::mx: return decide_mx(record, snapshot);
    case proto::dns_filter_type::a:
    case proto::dns_filter_type::aaaa: return decide_address(record, snapshot);
    case proto::dns_filter_type::tlsa:
    case proto::dns_filter_type::other: break;
    }
    return keep(dns_filter_reason::not_filtered);
}

}  // namespace mxw::engine
