#include "engine/destinations.hpp"

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

void add_unique(std::vector<std::string>& v, const std::string& s)
{
    if (std::find(v.begin(), v.end(), s) == v.end())
        v.push_back(s);
}

}  // namespace

destination_table::destination_table(routing_config cfg, dns::resolver& r, prober& p, health_table& h, clock_fn now,
                                     asio::any_io_executor ex, std::uint64_t seed, log_fn log)
    : cfg_(std::move(cfg)), resolver_(r), prober_(p), health_(h), now_(std::move(now)), ex_(std::move(ex)),
      rng_(seed), log_(std::move(log))
{
}

asio::awaitable<bool> destination_table::async_prepare(const std::string& domain, std::chrono::milliseconds budget)
{
    auto it = dests_.find(domain);
    if (it == dests_.end()) {
        if (dests_.size() >= cfg_.max_destinations) {
            // Bounded by peers' recipient domains: forget expired ones first.
            auto now = now_();
            for (auto e = dests_.begin(); e != dests_.end();) {
                const destination& d = e->second;
                if (!d.resolving && d.waiters.empty() && d.expires <= now) {
                    unindex(e->first, d.dns);
                    e = dests_.erase(e);
                } else {
                    ++e;
                }
            }
            if (dests_.size() >= cfg_.max_destinations)
                co_return false;  // Postfix's own routing; nothing is lost
        }
        it = dests_.emplace(domain, destination{}).first;
    }
    if (!it->second.resolving && (!it->second.resolved || now_() >= it->second.expires))
        start_resolve(domain);
    // The budget is wall time (a timer), whatever clock the table is given.
    const auto budget_end = std::chrono::steady_clock::now() + budget;
    if (!it->second.resolved && !co_await async_wait(domain, budget))
        co_return false;
    // A new destination's probes often end within the budget (a healthy host
    // greets in milliseconds): waiting for the first healthy one lets even
    // the first message pass a silent primary MX (seed 004).
    for (;;) {
        auto d = dests_.find(domain);
        if (d == dests_.end())
            co_return false;
        if (!awaiting_first_probe(d->second))
            break;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(budget_end - std::chrono::steady_clock::now());
        if (left <= std::chrono::milliseconds(0))
            break;
        co_await async_wait(domain, left);
    }
    co_return true;
}

asio::awaitable<bool> destination_table::async_wait(const std::string& domain, std::chrono::milliseconds budget)
{
    auto it = dests_.find(domain);
    if (it == dests_.end())
        co_return false;
    // The timer doubles as the wake-up signal: resolutions and probe results cancel it.
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

route_choice destination_table::choose(const std::string& domain)
{
    auto it = dests_.find(domain);
    if (it == dests_.end())
        return {};
    destination& d = it->second;
    route_snapshot s{
        .dns = d.dns,
        .resolved = d.resolved,
        .dns_failing_since = d.dns_failing_since,
        .dead_since = d.dead_since,
        .now = now_(),
        .health = [this](const std::string& a) { return health_.state(a); },
        .shared = [this](const std::string& a) {
            const owner_map* o = owners_of(a);
            return o && o->size() > 1;
        },
    };
    route_decision r = choose_route(domain, s, cfg_);
    d.dead_since = r.dead_since;
    // Also while quarantined for all-mx-dead: a probe is how a host comes back.
    if (d.dns.k == route_dns::kind::mx || d.dns.k == route_dns::kind::implicit)
        start_probes(domain, d);
    return std::move(r.choice);
}

const destination* destination_table::find(const std::string& domain) const
{
    auto it = dests_.find(domain);
    return it == dests_.end() ? nullptr : &it->second;
}

const destination_table::owner_map* destination_table::owners_of(const std::string& address) const
{
    auto it = owners_.find(address);
    return it == owners_.end() ? nullptr : &it->second;
}

std::vector<std::string> destination_table::addresses_of(const std::string& name) const
{
    std::vector<std::string> out;
    if (auto it = hosts_.find(name); it != hosts_.end())
        for (const auto& [domain, addrs] : it->second)
            for (const auto& a : addrs)
                add_unique(out, a);
    return out;
}

void destination_table::set_dns(const std::string& domain, destination& d, route_dns dns)
{
    unindex(domain, d.dns);
    d.dns = std::move(dns);
    for (const auto& h : d.dns.hosts) {
        for (const auto& a : h.addresses) {
            add_unique(owners_[a][domain], h.name);
            add_unique(hosts_[h.name][domain], a);
        }
    }
}

void destination_table::unindex(const std::string& domain, const route_dns& dns)
{
    for (const auto& h : dns.hosts) {
        for (const auto& a : h.addresses) {
            if (auto it = owners_.find(a); it != owners_.end() && it->second.erase(domain) && it->second.empty())
                owners_.erase(it);
        }
        if (auto it = hosts_.find(h.name); it != hosts_.end() && it->second.erase(domain) && it->second.empty())
            hosts_.erase(it);
    }
}

void destination_table::start_resolve(const std::string& domain)
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

asio::awaitable<void> destination_table::resolve_task(std::string domain)
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
        d.failure_status = r.k == route_dns::kind::no_address ? "no-address"
                           : r.failed == dns::status::ok     ? std::string(to_string(r.k))
                                                             : std::string(dns::to_string(r.failed));
        d.expires = now + cfg_.tempfail_retry;
        // Keep routing on the last good answer (seed 000); without one the
        // failure itself is the answer.
        if (!d.resolved)
            set_dns(domain, d, std::move(r));
        d.resolved = true;
    } else {
        auto ttl = std::clamp(std::chrono::seconds(r.ttl), cfg_.min_route_ttl, cfg_.max_route_ttl);
        bool changed = !d.resolved || d.dns.k != r.k || !same_hosts(d.dns.hosts, r.hosts);
        set_dns(domain, d, std::move(r));
        if (changed && save_)
            save_(saved_route{domain, d.dns});
        d.resolved = true;
        d.dns_failing = false;
        d.failure.clear();
        d.failure_status.clear();
        d.dns_failing_since = {};
        d.expires = now + ttl;
    }
    for (auto* w : d.waiters)
        w->cancel();
    start_probes(domain, d);
}

bool destination_table::awaiting_first_probe(const destination& d) const
{
    if (d.probes == 0)
        return false;
    bool unknown = false;
    for (const auto& host : d.dns.hosts) {
        for (const auto& addr : host.addresses) {
            if (denied(cfg_, addr))
                continue;
            health_state s = health_.state(addr);
            if (s == health_state::healthy)
                return false;
            unknown = unknown || s == health_state::unknown;
        }
    }
    return unknown;
}

void destination_table::start_probes(const std::string& domain, destination& d)
{
    auto now = now_();
    for (const auto& host : d.dns.hosts) {
        for (const auto& addr : host.addresses) {
            if (probes_running_ >= cfg_.max_probes || d.probes >= cfg_.max_probes_per_destination)
                return;
            if (denied(cfg_, addr) || !health_.start_probe(addr, now))
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

asio::awaitable<void> destination_table::probe_task(std::string domain, std::string address)
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
    // A lookup may be waiting for this result (see async_prepare()).
    for (auto* w : it->second.waiters)
        w->cancel();
    // The next address of this destination may be waiting for a slot.
    start_probes(domain, it->second);
}

void destination_table::restore(const std::vector<saved_route>& routes)
{
    for (const auto& r : routes) {
        if (dests_.size() >= cfg_.max_destinations)
            break;
        destination& d = dests_[r.destination];
        set_dns(r.destination, d, r.dns);
        d.resolved = true;
        d.expires = {};  // resolve again at first use; keep this if that fails
    }
}

}  // namespace mxw::engine
