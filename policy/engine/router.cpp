#include "engine/router.hpp"

#include "proto/json.hpp"
#include "proto/sanitize.hpp"

#include <algorithm>

namespace mxw::engine {
namespace {

bool same_hosts(const std::vector<mx_host>& a, const std::vector<mx_host>& b)
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].name != b[i].name || a[i].addresses != b[i].addresses)
            return false;
    return true;
}

std::string age(std::chrono::steady_clock::duration d)
{
    return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count()) + "s";
}

}  // namespace

router::router(routing_config cfg, dns::resolver& r, prober& p, health_table& h, clock_fn now,
               asio::any_io_executor ex, std::uint64_t seed, log_fn log)
    : cfg_(std::move(cfg)), resolver_(r), prober_(p), health_(h), now_(std::move(now)), ex_(std::move(ex)),
      rng_(seed), log_(std::move(log))
{
}

std::string router::destination_of(std::string_view key) const
{
    std::size_t at = key.rfind('@');
    std::string_view domain = at == std::string_view::npos ? key : key.substr(at + 1);
    while (!domain.empty() && domain.back() == '.')
        domain.remove_suffix(1);
    // "*" is Postfix's wildcard probe; ".parent" and "." are Sendmail's
    // fallbacks after the host key itself: the host key is the one to route.
    if (domain.empty() || domain == "*" || domain.front() == '.' || domain.front() == '[')
        return {};
    std::string d = proto::to_lower(domain);
    for (const auto& ex : cfg_.exclude) {
        if (ex.front() == '.' ? (d.size() > ex.size() && d.ends_with(ex)) : d == ex)
            return {};
    }
    return d;
}

bool router::denied(const std::string& address) const
{
    return std::any_of(cfg_.deny.begin(), cfg_.deny.end(), [&](const proto::cidr& c) { return c.contains(address); });
}

asio::awaitable<map_answer> router::lookup(const std::string& map, const std::string& key)
{
    if (map == "tls")
        co_return tls_policy(key);
    bool sendmail = map == "mailertable";
    bool relay = map == "relay";
    bool smarthost = cfg_.routing_mode == routing_config::mode::smarthost;
    if ((map != "transport" && !sendmail && !relay) || cfg_.routing_mode == routing_config::mode::off)
        co_return map_answer{};
    // Smart host mode: every destination in scope goes to the one smart
    // host, tracked as a destination of its own. Postfix's "*" stays
    // NOTFOUND even here: it follows a NOTFOUND for the address itself,
    // i.e. an excluded (local) domain, which must keep Postfix's routing.
    // The relay map (sender_dependent_relayhost_maps) is keyed by sender
    // and only consulted for remote mail, so any key gets the smart host.
    if (relay && !smarthost)
        co_return map_answer{};
    std::string domain = relay ? smarthost_destination() : destination_of(key);
    if (smarthost && !domain.empty())
        domain = smarthost_destination();
    if (domain.empty())
        co_return map_answer{};
    auto it = dests_.find(domain);
    if (it == dests_.end()) {
        if (dests_.size() >= cfg_.max_destinations) {
            // Bounded by peers' recipient domains: forget expired ones first.
            auto now = now_();
            std::erase_if(dests_, [now](const auto& kv) {
                return !kv.second.resolving && kv.second.waiters.empty() && kv.second.expires <= now;
            });
            if (dests_.size() >= cfg_.max_destinations)
                co_return map_answer{};  // Postfix's own routing; nothing is lost
        }
        it = dests_.emplace(domain, destination{}).first;
    }
    if (!it->second.resolving && (!it->second.resolved || now_() >= it->second.expires))
        start_resolve(domain);
    // The budget is wall time (a timer), whatever clock the router is given.
    const auto budget_end = std::chrono::steady_clock::now() + cfg_.answer_budget;
    if (!dests_[domain].resolved && !co_await wait_resolved(domain, cfg_.answer_budget))
        co_return map_answer{};
    // A new destination's probes often end within the budget (a healthy host
    // greets in milliseconds): waiting for the first healthy one lets even
    // the first message pass a silent primary MX (seed 004).
    for (;;) {
        auto d = dests_.find(domain);
        if (d == dests_.end() || !awaiting_first_probe(d->second))
            break;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(budget_end - std::chrono::steady_clock::now());
        if (left <= std::chrono::milliseconds(0))
            break;
        co_await wait_resolved(domain, left);
    }
    auto again = dests_.find(domain);
    if (again == dests_.end())
        co_return map_answer{};
    route_choice c = choose(domain, again->second);
    if (relay)
        co_return format_relayhost(c, cfg_);
    co_return sendmail ? format_sendmail(c, cfg_) : format_postfix(c, cfg_);
}

asio::awaitable<bool> router::wait_resolved(const std::string& domain, std::chrono::milliseconds budget)
{
    auto it = dests_.find(domain);
    if (it == dests_.end())
        co_return false;
    // The timer doubles as the wake-up signal: resolve_task cancels it.
    asio::steady_timer timer(ex_);
    timer.expires_after(budget);
    it->second.waiters.push_back(&timer);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    auto again = dests_.find(domain);
    if (again == dests_.end())
        co_return false;
    auto& ws = again->second.waiters;
    ws.erase(std::remove(ws.begin(), ws.end(), &timer), ws.end());
    co_return again->second.resolved;
}

void router::start_resolve(const std::string& domain)
{
    dests_[domain].resolving = true;
    asio::co_spawn(ex_, resolve_task(domain), [this, domain](std::exception_ptr e) {
        if (!e)
            return;
        if (auto it = dests_.find(domain); it != dests_.end())
            it->second.resolving = false;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            log_(severity::error, "event=route-error domain=" + proto::log_value(domain) + " error=" + proto::log_value(ex.what()));
        }
    });
}

asio::awaitable<void> router::resolve_task(std::string domain)
{
    auto deadline = now_() + cfg_.resolve_deadline;
    // g++ 12 cannot compile co_await inside a conditional expression.
    route_dns r;
    if (domain == smarthost_destination())
        r = co_await resolve_host(resolver_, cfg_.smarthost, cfg_.limits.families, deadline);
    else
        r = co_await resolve_route(resolver_, domain, cfg_.limits, rng_, deadline);
    auto it = dests_.find(domain);
    if (it == dests_.end())
        co_return;
    destination& d = it->second;
    auto now = now_();
    d.resolving = false;
    bool failed = r.k == route_dns::kind::tempfail || r.k == route_dns::kind::no_address;
    if (failed) {
        // Seed 002: every DNS failure that blocks routing is logged at once,
        // with the lookups that failed.
        log_(severity::warning, "event=route-dns-failure domain=" + proto::log_value(domain) + " result=" +
             std::string(to_string(r.k)) + " dns=" + proto::log_value(r.evidence, 1000) +
             (d.resolved && (d.dns.k == route_dns::kind::mx || d.dns.k == route_dns::kind::implicit)
                  ? " using=last-known-good"
                  : ""));
        if (d.dns_failing_since == time_point{})
            d.dns_failing_since = now;
        d.dns_failing = true;
        d.failure = r.evidence;
        d.expires = now + cfg_.tempfail_retry;
        // Keep routing on the last good answer (seed 000); without one the
        // failure itself is the answer.
        if (!d.resolved)
            d.dns = std::move(r);
        d.resolved = true;
    } else {
        remember_names(r);
        auto ttl = std::clamp(std::chrono::seconds(r.ttl), cfg_.min_route_ttl, cfg_.max_route_ttl);
        bool changed = !d.resolved || d.dns.k != r.k || !same_hosts(d.dns.hosts, r.hosts);
        d.dns = std::move(r);
        if (changed && save_)
            save_(saved_route{domain, d.dns});
        d.resolved = true;
        d.dns_failing = false;
        d.failure.clear();
        d.dns_failing_since = {};
        d.expires = now + ttl;
    }
    for (auto* w : d.waiters)
        w->cancel();
    start_probes(domain, d);
}

bool router::awaiting_first_probe(const destination& d) const
{
    if (d.probes == 0)
        return false;
    bool unknown = false;
    for (const auto& host : d.dns.hosts) {
        for (const auto& addr : host.addresses) {
            if (denied(addr))
                continue;
            health_state s = health_.state(addr);
            if (s == health_state::healthy)
                return false;
            unknown = unknown || s == health_state::unknown;
        }
    }
    return unknown;
}

void router::start_probes(const std::string& domain, destination& d)
{
    auto now = now_();
    for (const auto& host : d.dns.hosts) {
        for (const auto& addr : host.addresses) {
            if (probes_running_ >= cfg_.max_probes || d.probes >= cfg_.max_probes_per_destination)
                return;
            if (denied(addr) || !health_.start_probe(addr, now))
                continue;
            ++probes_running_;
            ++d.probes;
            asio::co_spawn(ex_, probe_task(domain, addr), [this, domain, addr](std::exception_ptr e) {
                if (!e)
                    return;
                health_.abandon(addr);
                --probes_running_;
                if (auto it = dests_.find(domain); it != dests_.end() && it->second.probes > 0)
                    --it->second.probes;
            });
        }
    }
}

asio::awaitable<void> router::probe_task(std::string domain, std::string address)
{
    probe_result r = co_await prober_.probe(address, hop_port(cfg_));
    health_.record(address, r, now_());
    --probes_running_;
    ++probe_outcomes_[static_cast<std::size_t>(r.outcome)];
    log_(r.outcome == probe_outcome::ok ? severity::info : severity::warning, "event=probe domain=" + proto::log_value(domain) + " address=" + address + " result=" +
         std::string(to_string(r.outcome)) + " ms=" + std::to_string(r.elapsed.count()) +
         " detail=" + proto::log_value(r.detail));
    auto it = dests_.find(domain);
    if (it == dests_.end())
        co_return;
    if (it->second.probes > 0)
        --it->second.probes;
    // A lookup may be waiting for this result (see lookup()).
    for (auto* w : it->second.waiters)
        w->cancel();
    // The next address of this destination may be waiting for a slot.
    start_probes(domain, it->second);
}

void router::restore(const std::vector<saved_route>& routes)
{
    for (const auto& r : routes) {
        if (dests_.size() >= cfg_.max_destinations)
            break;
        destination& d = dests_[r.destination];
        d.dns = r.dns;
        d.resolved = true;
        d.expires = {};  // resolve again at first use; keep this if that fails
        remember_names(r.dns);
    }
}

void router::remember_names(const route_dns& dns)
{
    if (names_by_address_.size() > 4 * cfg_.max_destinations) {
        names_by_address_.clear();
        for (const auto& [domain, d] : dests_)
            for (const auto& h : d.dns.hosts)
                for (const auto& a : h.addresses)
                    names_by_address_[a].push_back(h.name);
    }
    for (const auto& h : dns.hosts) {
        for (const auto& a : h.addresses) {
            auto& names = names_by_address_[a];
            if (std::find(names.begin(), names.end(), h.name) == names.end() && names.size() < 8)
                names.push_back(h.name);
        }
    }
}

map_answer router::tls_policy(std::string_view nexthop) const
{
    // Only keys of the form mxwarden emits: "[address]:port" or "[name]:port".
    auto close = nexthop.find("]:");
    if (nexthop.empty() || nexthop.front() != '[' || close == std::string_view::npos)
        return {};
    std::string inside = proto::to_lower(nexthop.substr(1, close - 1));
    bool verifies = cfg_.tls_level == "verify" || cfg_.tls_level == "secure";
    if (!proto::canonical_address(inside)) {
        // A bracketed host name: Postfix checks the certificate against it
        // by itself; the level is all it needs.
        for (const auto& [domain, d] : dests_)
            for (const auto& h : d.dns.hosts)
                if (h.name == inside)
                    return {map_answer::status::ok, cfg_.tls_level};
        return {};
    }
    auto it = names_by_address_.find(inside);
    if (it == names_by_address_.end() || it->second.empty())
        return {};  // not a next hop of ours: other maps decide
    if (!verifies)
        return {map_answer::status::ok, cfg_.tls_level};
    // Literal names in match= are compared with the certificate; servername=
    // sends SNI. Both are attributes Postfix 3.7 knows (anything else would
    // invalidate the policy and defer the mail).
    std::string match;
    for (const auto& n : it->second)
        match.append(match.empty() ? "" : ":").append(n);
    return {map_answer::status::ok, cfg_.tls_level + " match=" + match + " servername=" + it->second.front()};
}

route_choice router::choose(const std::string& domain, destination& d)
{
    using kind = route_choice::kind;
    auto now = now_();
    auto overdue = [&](time_point since) { return since != time_point{} && now - since >= cfg_.quarantine_after; };
    auto quarantine = [](std::string reason) { return route_choice{kind::quarantine, {}, false, "", std::move(reason)}; };
    auto unroutable = [&](routing_config::unroutable how, std::string reason, std::string status, std::string text) {
        if (how == routing_config::unroutable::quarantine)
            return quarantine(std::move(reason));
        if (how == routing_config::unroutable::postfix)
            return route_choice{};
        return route_choice{kind::bounce, {}, false, std::move(status), std::move(text)};
    };
    switch (d.dns.k) {
    case route_dns::kind::null_mx:
        // With a bracketed next hop the MTA never sees the MX records, so
        // RFC 7505 has to be enforced here.
        return unroutable(cfg_.on_null_mx, "null-mx", "5.1.10",
                          "recipient domain " + domain + " does not accept mail (null MX, RFC 7505)");
    case route_dns::kind::nxdomain:
        return unroutable(cfg_.on_nxdomain, "nxdomain", "5.1.2", "recipient domain " + domain + " does not exist");
    case route_dns::kind::tempfail:
    case route_dns::kind::no_address:
        if (overdue(d.dns_failing_since))
            return quarantine(d.dns.k == route_dns::kind::tempfail ? "dns-failure" : "no-mx-address");
        return {};
    case route_dns::kind::mx:
    case route_dns::kind::implicit: break;
    }

    // Healthy first, then not yet probed, each in preference order; known
    // dead hosts only when nothing else is left.
    std::vector<std::string> healthy, unknown, dead;
    std::vector<std::string> healthy_hosts, unknown_hosts, dead_hosts;
    auto listed = [&](const std::string& a) {
        for (const auto* v : {&healthy, &unknown, &dead})
            if (std::find(v->begin(), v->end(), a) != v->end())
                return true;
        return false;
    };
    for (const auto& host : d.dns.hosts) {
        health_state best = health_state::dead;
        bool any = false;
        for (const auto& addr : host.addresses) {
            if (denied(addr))
                continue;
            any = true;
            // Several MX names may share an address: one next hop is enough.
            if (listed(addr)) {
                health_state s = health_.state(addr);
                if (s == health_state::healthy || (s == health_state::unknown && best == health_state::dead))
                    best = s;
                continue;
            }
            health_state s = health_.state(addr);
            (s == health_state::healthy ? healthy : s == health_state::unknown ? unknown : dead).push_back(addr);
            if (s == health_state::healthy || (s == health_state::unknown && best == health_state::dead))
                best = s;
        }
        if (any)
            (best == health_state::healthy ? healthy_hosts : best == health_state::unknown ? unknown_hosts
                                                                                           : dead_hosts)
                .push_back(host.name);
    }
    start_probes(domain, d);
    bool all_dead = healthy.empty() && unknown.empty();
    if (all_dead && dead.empty())
        return {};  // every address denied (e.g. points at ourselves): the MTA decides
    // While some address answers, mail flows, also on last-known-good
    // addresses during a DNS outage (seed 000): only "all dead" counts.
    if (!all_dead)
        d.dead_since = {};
    else if (d.dead_since == time_point{})
        d.dead_since = now;
    if (overdue(d.dead_since))
        return quarantine("all-mx-dead");

    route_choice c{kind::hops, {}, cfg_.nexthop_form == routing_config::form::hostname, "", ""};
    auto& first = c.hostnames ? healthy_hosts : healthy;
    auto& second = c.hostnames ? unknown_hosts : unknown;
    auto& last = c.hostnames ? dead_hosts : dead;
    c.hops = first;
    c.hops.insert(c.hops.end(), second.begin(), second.end());
    if (c.hops.empty())
        c.hops = last;
    if (c.hops.size() > cfg_.max_addresses)
        c.hops.resize(cfg_.max_addresses);
    return c;
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
    // to be tried in turn.
    std::string out = cfg.sendmail_mailer + ":";
    for (std::size_t i = 0; i < c.hops.size(); ++i) {
        bool v6 = !c.hostnames && c.hops[i].find(':') != std::string::npos;
        out.append(i ? ":[" : "[").append(v6 ? "IPv6:" : "").append(c.hops[i]).append("]");
    }
    return {map_answer::status::ok, out};
}

asio::awaitable<std::string> router::explain(const std::string& domain_in, bool json)
{
    const std::string domain = destination_of(domain_in);
    if (domain.empty())
        co_return json ? "{\"error\":\"out of scope\"}\n" : "out of scope (excluded, wildcard or address literal)\n";
    const std::string key = "postmaster@" + domain;
    const std::string map = "transport";
    // In smart host mode every domain routes to the smart host: explain that.
    const std::string tracked =
        cfg_.routing_mode == routing_config::mode::smarthost ? smarthost_destination() : domain;
    // A first lookup starts the work; then wait as long as resolving may take.
    map_answer a = co_await lookup(map, key);
    if (!dests_[tracked].resolved || dests_[tracked].resolving)
        co_await wait_resolved(tracked, cfg_.resolve_deadline);
    a = co_await lookup(map, key);
    const destination& d = dests_[tracked];
    auto now = now_();
    std::string reply = a.st == map_answer::status::ok ? "OK " + a.data : "NOTFOUND";
    if (json) {
        proto::json_writer w;
        w.begin_object().key("domain").value(domain);
        if (tracked != domain)
            w.key("smarthost").value(cfg_.smarthost + ":" + std::to_string(cfg_.smarthost_port));
        w.key("dns").value(to_string(d.dns.k));
        w.key("dns_failing").value(d.dns_failing).key("evidence").value(d.dns.evidence);
        if (d.dns_failing)
            w.key("dns_failure").value(d.failure);
        w.key("hosts").begin_array();
        for (const auto& h : d.dns.hosts) {
            w.begin_object().key("name").value(h.name).key("preference").value(std::int64_t{h.preference});
            w.key("addresses").begin_array();
            for (const auto& addr : h.addresses) {
                const auto* e = health_.find(addr);
                w.begin_object().key("address").value(addr).key("denied").value(denied(addr));
                w.key("health").value(to_string(e ? e->state : health_state::unknown));
                if (e && e->probed_at != time_point{}) {
                    w.key("probe").value(to_string(e->last.outcome)).key("probe_detail").value(e->last.detail);
                    w.key("probe_age_seconds")
                        .value(std::int64_t{std::chrono::duration_cast<std::chrono::seconds>(now - e->probed_at).count()});
                }
                w.end_object();
            }
            w.end_array().end_object();
        }
        w.end_array().key("answer").value(reply).end_object();
        co_return w.str() + "\n";
    }
    std::string out = "domain:   " + domain + "\n";
    if (tracked != domain)
        out += "via:      smart host " + cfg_.smarthost + ":" + std::to_string(cfg_.smarthost_port) + "\n";
    out += "dns:      " + std::string(to_string(d.dns.k)) + (d.dns_failing ? " (failing now; last-known-good)" : "") + "\n";
    out += "evidence: " + proto::sanitize(d.dns.evidence, 4000) + "\n";
    if (d.dns_failing)
        out += "failure:  " + proto::sanitize(d.failure, 4000) + "\n";
    for (const auto& h : d.dns.hosts) {
        out += "mx " + std::to_string(h.preference) + " " + h.name + "\n";
        for (const auto& addr : h.addresses) {
            const auto* e = health_.find(addr);
            out += "  " + addr + "  " + std::string(to_string(e ? e->state : health_state::unknown));
            if (denied(addr))
                out += " (denied: routing.deny-addresses)";
            if (e && e->probed_at != time_point{})
                out += "  probe=" + std::string(to_string(e->last.outcome)) + " " + age(now - e->probed_at) +
                       " ago " + proto::sanitize(e->last.detail, 120);
            out += "\n";
        }
    }
    out += "postfix:  " + proto::sanitize(reply, 2000) + "\n";
    co_return out;
}

}  // namespace mxw::engine
