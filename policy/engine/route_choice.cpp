#include "engine/route_choice.hpp"

#include <algorithm>
#include <array>

namespace mxw::engine {

bool denied(const routing_config& cfg, const std::string& address)
{
    return std::any_of(cfg.deny.begin(), cfg.deny.end(), [&](const proto::cidr& c) { return c.contains(address); });
}

route_decision choose_route(const std::string& domain, const route_snapshot& s, const routing_config& cfg)
{
    using kind = route_choice::kind;
    using time_point = route_snapshot::time_point;
    route_decision out{{}, s.dead_since};
    if (!s.resolved)
        return out;
    auto overdue = [&](time_point since) { return since != time_point{} && s.now - since >= cfg.quarantine_after; };
    auto quarantine = [&](std::string reason) {
        out.choice = route_choice{kind::quarantine, {}, "", std::move(reason)};
        return out;
    };
    auto unroutable = [&](routing_config::unroutable how, std::string reason, std::string status, std::string text) {
        if (how == routing_config::unroutable::quarantine)
            return quarantine(std::move(reason));
        if (how == routing_config::unroutable::bounce)
            out.choice = route_choice{kind::bounce, {}, std::move(status), std::move(text)};
        return out;
    };
    switch (s.dns.k) {
    case route_dns::kind::null_mx:
        // With a bracketed next hop the MTA never sees the MX records, so
        // RFC 7505 has to be enforced here.
        return unroutable(cfg.on_null_mx, "null-mx", "5.1.10",
                          "recipient domain " + domain + " does not accept mail (null MX, RFC 7505)");
    case route_dns::kind::nxdomain:
        return unroutable(cfg.on_nxdomain, "nxdomain", "5.1.2", "recipient domain " + domain + " does not exist");
    case route_dns::kind::tempfail:
    case route_dns::kind::no_address:
        if (overdue(s.dns_failing_since))
            return quarantine(s.dns.k == route_dns::kind::tempfail ? "dns-failure" : "no-mx-address");
        return out;
    case route_dns::kind::mx:
    case route_dns::kind::implicit: break;
    }

    // A bracketed address hides the name a certificate must match; the tls
    // map names it (match=). An address that MX names of two destinations
    // share cannot be given one destination's names there: the key is only
    // "[address]:port". Such a host is emitted by its own name instead, so
    // Postfix checks the certificate against the name this destination
    // published (an attacker pointing his MX at our MX's address must not
    // make his certificate good for our mail).
    const bool by_name = cfg.nexthop_form == routing_config::form::hostname;
    const bool name_shared = !by_name && tls_checks_names(cfg.tls_level);
    auto rank = [](health_state h) { return h == health_state::healthy ? 0 : h == health_state::unknown ? 1 : 2; };
    // Healthy first, then not yet probed, each in preference order; known
    // dead hosts only when nothing else is left.
    std::array<std::vector<std::string>, 3> hops;
    auto listed = [&](const std::string& hop) {
        return std::any_of(hops.begin(), hops.end(),
                           [&](const auto& v) { return std::find(v.begin(), v.end(), hop) != v.end(); });
    };
    bool any = false;
    for (const auto& host : s.dns.hosts) {
        int best = 2;
        bool usable = false, named = by_name;
        for (const auto& addr : host.addresses) {
            if (denied(cfg, addr))
                continue;
            usable = true;
            best = std::min(best, rank(s.health(addr)));
            named = named || (name_shared && s.shared(addr));
        }
        if (!usable)
            continue;
        any = true;
        if (named) {
            // The host as a whole, at its best address's rank: Postfix
            // looks its addresses up by the name.
            if (!listed(host.name))
                hops[static_cast<std::size_t>(best)].push_back(host.name);
            continue;
        }
        for (const auto& addr : host.addresses) {
            // Several MX names may share an address: one next hop is enough.
            if (!denied(cfg, addr) && !listed(addr))
                hops[static_cast<std::size_t>(rank(s.health(addr)))].push_back(addr);
        }
    }
    if (!any)
        return out;  // every address denied (e.g. points at ourselves): the MTA decides
    bool all_dead = hops[0].empty() && hops[1].empty();
    // While some address answers, mail flows, also on last-known-good
    // addresses during a DNS outage (seed 000): only "all dead" counts.
    if (!all_dead)
        out.dead_since = {};
    else if (out.dead_since == time_point{})
        out.dead_since = s.now;
    if (overdue(out.dead_since))
        return quarantine("all-mx-dead");

    route_choice c{kind::hops, std::move(hops[0]), "", ""};
    c.hops.insert(c.hops.end(), hops[1].begin(), hops[1].end());
    if (c.hops.empty())
        c.hops = std::move(hops[2]);
    if (c.hops.size() > cfg.max_addresses)
        c.hops.resize(cfg.max_addresses);
    out.choice = std::move(c);
    return out;
}

}  // namespace mxw::engine
