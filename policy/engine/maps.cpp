#include "engine/maps.hpp"

#include "engine/destinations.hpp"
#include "engine/dns_filter.hpp"
#include "engine/router.hpp"
#include "proto/dns_filter_key.hpp"
#include "proto/dns_rdata.hpp"
#include "proto/sanitize.hpp"

#include <algorithm>
#include <array>

namespace mxw::engine {
namespace {

// Postfix transport_maps.
asio::awaitable<map_answer> transport_map(router& rt, const std::string& key)
{
    const std::string domain = rt.destination_of(key);
    route_choice c = co_await rt.route(domain);
    // routing.steer = dns-filter: Postfix picks the hosts itself (keeping
    // DANE, MTA-STS and its certificate name checks), so next hops and the
    // bounces Postfix gives by itself for null MX and NXDOMAIN stay its own;
    // only the quarantine, which Postfix has no notion of, is answered. The
    // lookup still resolves and probes the destination, ahead of the
    // dnsfilter questions the delivery will ask.
    const routing_config& cfg = rt.config();
    if (cfg.steer == steer_mode::dns_filter && cfg.routing_mode == routing_config::mode::mx &&
        c.k != route_choice::kind::quarantine)
        co_return map_answer{};
    co_return format_postfix(c, cfg);
}

// Sendmail's mailertable (the host key, then ".parent" and "." keys).
asio::awaitable<map_answer> mailertable_map(router& rt, const std::string& key)
{
    const std::string domain = rt.destination_of(key);
    co_return format_sendmail(co_await rt.route(domain), rt.config());
}

// sender_dependent_relayhost_maps, smart host mode only: it is keyed by
// sender and only consulted for remote mail, so any key gets the smart host.
asio::awaitable<map_answer> relay_map(router& rt, const std::string&)
{
    if (rt.config().routing_mode != routing_config::mode::smarthost)
        co_return map_answer{};
    const std::string domain = rt.table().smarthost_destination();
    co_return format_relayhost(co_await rt.route(domain), rt.config());
}

// smtp_tls_policy_maps, keyed by a next hop exactly as mxwarden emitted it.
asio::awaitable<map_answer> tls_map(router& rt, const std::string& key)
{
    co_return tls_policy(rt.table(), key);
}

// What the table knows about `name` as a host: each of its addresses with
// its health.
dns_filter_host known_host(const destination_table& t, const std::string& name)
{
    dns_filter_host h{name, {}};
    for (auto& a : t.addresses_of(name))
        h.addresses.push_back({a, t.health().state(a)});
    return h;
}

// smtp_dns_reply_filter (routing.steer = dns-filter): one resource record per
// key, MX records first, then each host's A/AAAA records. Never TEMP: a
// lookup error makes Postfix defer the whole delivery ("Invalid DNS reply
// filter syntax"), so anything unreadable or unknown is simply kept.
asio::awaitable<map_answer> dnsfilter_map(router& rt, const std::string& key)
{
    auto record = proto::parse_dns_filter_key(key);
    if (!record)
        co_return map_answer{};
    // An MX record's owner is the recipient domain: tracking it starts its
    // resolution and the probes of every MX address in the background, and
    // waits at most the answer budget for them. An address record's owner
    // is only looked up among the hosts already known: it may be a relay
    // host or anything else Postfix resolves, which must not be probed as
    // an MX. A domain without MX (its own address is the implicit MX) is
    // known from the transport lookup made when the message was queued.
    if (record->type == proto::dns_filter_type::mx)
        co_await rt.route(rt.destination_of(record->owner));
    co_return dnsfilter_answer(rt.table(), *record);
}

// A new map is one entry here.
constexpr std::array<map_entry, 5> maps{{
    {"transport", transport_map},
    {"mailertable", mailertable_map},
    {"relay", relay_map},
    {"tls", tls_map},
    {"dnsfilter", dnsfilter_map},
}};

}  // namespace

const map_entry* find_map(std::string_view name) noexcept
{
    auto it = std::find_if(maps.begin(), maps.end(), [&](const map_entry& m) { return m.name == name; });
    return it == maps.end() ? nullptr : &*it;
}

map_answer format_postfix(const route_choice& c, const routing_config& cfg)
{
    using kind = route_choice::kind;
    switch (c.k) {
    case kind::none: return {};
    case kind::bounce: return {map_answer::status::ok, "error:" + c.status + " " + c.text};
    case kind::quarantine: return {map_answer::status::ok, cfg.quarantine_transport + ":" + c.text};
    case kind::hops: break;
    }
    return {map_answer::status::ok, cfg.transport + ":" + hop_list(c, cfg)};
}

std::string hop_list(const route_choice& c, const routing_config& cfg)
{
    // "[192.0.2.7]:25"; Postfix reads "[2001:db8::1]:25" as an IPv6 literal
    // too (smtp_addr.c), and "[mx.example.com]:25" as a host without MX
    // lookup. One port style everywhere keeps TLS policy keys matching.
    std::string out;
    for (std::size_t i = 0; i < c.hops.size(); ++i)
        out.append(i ? ", [" : "[").append(c.hops[i]).append("]:").append(std::to_string(hop_port(cfg)));
    return out;
}

map_answer format_relayhost(const route_choice& c, const routing_config& cfg)
{
    // A relayhost value names next hops only: no transport, so no error:
    // or quarantine answer; those fall back to Postfix's own relayhost.
    if (c.k != route_choice::kind::hops)
        return {};
    return {map_answer::status::ok, hop_list(c, cfg)};
}

map_answer format_sendmail(const route_choice& c, const routing_config& cfg)
{
    using kind = route_choice::kind;
    switch (c.k) {
    case kind::none: return {};
    case kind::bounce: {
        // mailertable error syntax: error:DSN:SMTP-code text
        std::string code = c.status.front() == '5' ? "550" : "450";
        return {map_answer::status::ok, "error:" + c.status + ":" + code + " " + c.text};
    }
    case kind::quarantine: return {map_answer::status::ok, cfg.quarantine_transport + ":" + c.text};
    case kind::hops: break;
    }
    // Sendmail takes no port in the host part (it comes from the mailer's
    // A= line), and marks IPv6 literals with "IPv6:". Colons separate hosts
    // to be tried in turn. A hop with a colon is an IPv6 address: host
    // names from DNS come escaped to [a-z0-9-_.\] (proto/dns_rdata.hpp).
    std::string out = cfg.sendmail_mailer + ":";
    for (std::size_t i = 0; i < c.hops.size(); ++i) {
        bool v6 = c.hops[i].find(':') != std::string::npos;
        out.append(i ? ":[" : "[").append(v6 ? "IPv6:" : "").append(c.hops[i]).append("]");
    }
    return {map_answer::status::ok, out};
}

map_answer dnsfilter_answer(const destination_table& t, const proto::dns_filter_record& record)
{
    dns_filter_snapshot snap;
    if (record.type == proto::dns_filter_type::mx) {
        if (const destination* d = t.find(record.owner))
            for (const auto& h : d->dns.hosts)
                snap.hosts.push_back(known_host(t, h.name));
    } else if (record.type == proto::dns_filter_type::a || record.type == proto::dns_filter_type::aaaa) {
        snap.hosts.push_back(known_host(t, record.owner));
    }
    if (decide_dns_filter(record, snap).action == dns_filter_action::ignore)
        return {map_answer::status::ok, "IGNORE"};
    return {};
}

map_answer tls_policy(const destination_table& t, std::string_view nexthop)
{
    const routing_config& cfg = t.config();
    // Only keys of the form mxwarden emits: "[address]:port" or "[name]:port".
    auto close = nexthop.find("]:");
    if (nexthop.empty() || nexthop.front() != '[' || close == std::string_view::npos)
        return {};
    std::string inside = proto::to_lower(nexthop.substr(1, close - 1));
    if (!proto::canonical_address(inside)) {
        // A bracketed host name: Postfix checks the certificate against it
        // by itself; the level is all it needs.
        if (t.addresses_of(inside).empty())
            return {};
        return {map_answer::status::ok, cfg.tls_level};
    }
    const auto* owners = t.owners_of(inside);
    if (!owners)
        return {};  // not a next hop of ours: other maps decide
    if (!tls_checks_names(cfg.tls_level))
        return {map_answer::status::ok, cfg.tls_level};
    // The key tells the address, not the destination the hop was emitted
    // for. Names are only ever answered for one destination's own MX
    // hosts: pooling the names of every destination on this address would
    // let anyone who points an MX at it have a certificate for his own
    // name accepted for the other destinations' mail. A shared address is
    // emitted by name instead (choose_route); this key can only be a hop
    // given out before the sharing began. TEMP fails that hop with "client
    // TLS configuration problem" (Postfix 3.7 smtp_tls_policy.c): Postfix
    // tries the next hop or defers, and the next transport lookup gives the
    // named hop. Never a wrong name.
    if (owners->size() > 1)
        return {map_answer::status::temp, "address shared by MX hosts of several destinations"};
    // Literal names in match= are compared with the certificate; servername=
    // sends SNI. Both are attributes Postfix 3.7 knows (anything else would
    // invalidate the policy and defer the mail).
    const std::vector<std::string>& names = owners->begin()->second;
    std::string match;
    for (const auto& n : names)
        match.append(match.empty() ? "" : ":").append(n);
    return {map_answer::status::ok, cfg.tls_level + " match=" + match + " servername=" + names.front()};
}

}  // namespace mxw::engine
