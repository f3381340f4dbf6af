#include "daemon/health_view.hpp"

#include "proto/health_report.hpp"

#include <algorithm>
#include <chrono>
#include <tuple>

namespace mxw::daemon {
namespace {

using time_point = engine::health_table::time_point;

// A steady time as Unix seconds; the zero time point is "unknown", 0.
std::int64_t unix_of(time_point t, time_point now, std::int64_t unix_now)
{
    if (t == time_point{})
        return 0;
    return std::max<std::int64_t>(0, unix_now - std::chrono::duration_cast<std::chrono::seconds>(now - t).count());
}

int state_rank(engine::health_state s)
{
    switch (s) {
    case engine::health_state::dead: return 0;
    case engine::health_state::healthy: return 1;
    case engine::health_state::unknown: break;
    }
    return 2;
}

// The MX names of `address` across every destination that has it, each
// once, at most max_health_names.
std::vector<std::string> names_of(const engine::destination_table& t, const std::string& address)
{
    std::vector<std::string> names;
    const auto* owners = t.owners_of(address);
    if (!owners)
        return names;
    for (const auto& [domain, mx] : *owners)
        for (const auto& n : mx)
            if (names.size() < proto::max_health_names && std::find(names.begin(), names.end(), n) == names.end())
                names.push_back(n);
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace

std::uint64_t dns_failures(const counters& c)
{
    const auto by = c.res.by_status();
    std::uint64_t n = 0;
    for (std::size_t s = 0; s < by.size(); ++s)
        if (dns::is_temporary(static_cast<dns::status>(s)))
            n += by[s];
    return n;
}

std::uint64_t dead_hosts(const engine::health_table& h)
{
    std::uint64_t n = 0;
    for (const auto& [address, e] : h.entries())
        n += e.state == engine::health_state::dead ? 1 : 0;
    return n;
}

void activity_sample(engine::activity_ring& ring, const counters& c, std::int64_t unix_now)
{
    ring.sample(unix_now, c.pol.requests, dns_failures(c), dead_hosts(c.health));
}

proto::health_report health_report_of(const counters& c, const engine::activity_ring& ring, time_point now,
                                      std::int64_t unix_now)
{
    proto::health_report r;
    r.now = unix_now;
    r.bucket_seconds = engine::activity_ring::bucket_seconds;

    // Which hosts make it is chosen before any text is made: the table may
    // hold 100 000 entries, the report takes 10 000.
    struct pick {
        const std::string* address;
        const engine::health_table::entry* e;
        time_point last;
    };
    std::vector<pick> picks;
    picks.reserve(c.health.size());
    for (const auto& [address, e] : c.health.entries())
        picks.push_back({&address, &e, e.recent.empty() ? e.probed_at : e.recent.back().at});
    auto keep = std::min(picks.size(), proto::max_health_hosts);
    auto before = [](const pick& a, const pick& b) {
        auto ra = state_rank(a.e->state), rb = state_rank(b.e->state);
        if (ra != rb)
            return ra < rb;
        if (a.last != b.last)
            return a.last > b.last;
        return *a.address < *b.address;
    };
    std::partial_sort(picks.begin(), picks.begin() + static_cast<std::ptrdiff_t>(keep), picks.end(), before);
    picks.resize(keep);
    for (const auto& p : picks) {
        proto::health_host h;
        h.address = *p.address;
        h.names = names_of(c.router.table(), *p.address);
        h.state = std::string(engine::to_string(p.e->state));
        if (!p.e->recent.empty()) {
            const auto& last = p.e->recent.back();
            h.source = std::string(engine::to_string(last.what.source));
            h.last_outcome = last.what.outcome;
        } else {
            // Never observed: an entry made for a probe that has not
            // finished. Probes are what make entries first.
            h.source = std::string(engine::to_string(engine::health_source::probe));
        }
        h.last_at = unix_of(p.last, now, unix_now);
        r.hosts.push_back(std::move(h));
    }

    for (const auto& [domain, d] : c.router.table().all()) {
        proto::failing_destination f;
        f.domain = domain;
        if (d.dns_failing) {
            f.status = d.failure_status;
            f.detail = d.failure;
            f.since = unix_of(d.dns_failing_since, now, unix_now);
        } else if (d.resolved && d.dns.k == engine::route_dns::kind::nxdomain) {
            f.status = "nxdomain";
            f.detail = d.dns.evidence;
        } else if (d.resolved && d.dns.k == engine::route_dns::kind::null_mx) {
            f.status = "null-mx";
            f.detail = d.dns.evidence;
        } else if (d.dead_since != time_point{}) {
            f.status = "all-dead";
            f.since = unix_of(d.dead_since, now, unix_now);
            for (const auto& host : d.dns.hosts)
                for (const auto& a : host.addresses) {
                    const auto* e = c.health.find(a);
                    if (!f.detail.empty())
                        f.detail += "; ";
                    f.detail += a + " " +
                                (e && !e->recent.empty() ? e->recent.back().what.outcome
                                                         : std::string(engine::to_string(engine::health_state::unknown)));
                }
        } else {
            continue;
        }
        r.failing.push_back(std::move(f));
    }
    // Longest failing first: the oldest trouble is the one to look at.
    // NXDOMAIN and null MX have no start (they are how the domain is) and
    // come last, so typo domains cannot crowd outages out of the caps.
    std::sort(r.failing.begin(), r.failing.end(), [](const auto& a, const auto& b) {
        auto key = [](const proto::failing_destination& f) { return std::tuple(f.since == 0, f.since, f.domain); };
        return key(a) < key(b);
    });

    for (const auto& b : ring.last_day(unix_now))
        r.activity.push_back({b.start, b.decisions, b.dns_failures, b.dead_hosts});
    return r;
}

}  // namespace mxw::daemon
