#include "engine/health.hpp"

#include <algorithm>

namespace mxw::engine {

std::string_view to_string(probe_outcome o) noexcept
{
    switch (o) {
    case probe_outcome::ok: return "ok";
    case probe_outcome::refused: return "refused";
    case probe_outcome::connect_timeout: return "connect-timeout";
    case probe_outcome::banner_timeout: return "banner-timeout";
    case probe_outcome::greeting_4xx: return "greeting-4xx";
    case probe_outcome::greeting_5xx: return "greeting-5xx";
    case probe_outcome::reset: return "reset";
    case probe_outcome::garbage: return "garbage";
    }
    return "?";
}

std::string_view to_string(health_state s) noexcept
{
    switch (s) {
    case health_state::unknown: return "unknown";
    case health_state::healthy: return "healthy";
    case health_state::dead: return "dead";
    }
    return "?";
}

health_state health_table::state(const std::string& address) const
{
    const entry* e = find(address);
    return e ? e->state : health_state::unknown;
}

const health_table::entry* health_table::find(const std::string& address) const
{
    auto it = entries_.find(address);
    return it == entries_.end() ? nullptr : &it->second;
}

bool health_table::start_probe(const std::string& address, time_point now)
{
    auto it = entries_.find(address);
    if (it == entries_.end()) {
        // Addresses come from remote DNS: keep the table bounded. Forgetting
        // an address only costs one more probe.
        if (entries_.size() >= cfg_.max_entries)
            std::erase_if(entries_, [now](const auto& kv) { return !kv.second.probing && kv.second.next_probe <= now; });
        if (entries_.size() >= cfg_.max_entries)
            return false;
        it = entries_.emplace(address, entry{}).first;
    }
    entry& e = it->second;
    if (e.probing || now < e.next_probe)
        return false;
    e.probing = true;
    return true;
}

void health_table::record(const std::string& address, const probe_result& r, time_point now)
{
    entry& e = entries_[address];
    e.probing = false;
    e.last = r;
    e.probed_at = now;
    if (r.outcome == probe_outcome::ok) {
        e.state = health_state::healthy;
        e.failures = 0;
        e.next_probe = now + cfg_.healthy_ttl;
        return;
    }
    e.state = health_state::dead;
    ++e.failures;
    // Doubling backoff: a host that stays dead is asked less and less often,
    // so a busy MTA never hammers it.
    auto backoff = cfg_.dead_backoff;
    for (std::uint32_t i = 1; i < e.failures && backoff < cfg_.max_backoff; ++i)
        backoff *= 2;
    e.next_probe = now + std::min(backoff, cfg_.max_backoff);
}

void health_table::abandon(const std::string& address)
{
    auto it = entries_.find(address);
    if (it != entries_.end())
        it->second.probing = false;
}

}  // namespace mxw::engine
