#include "engine/health.hpp"

#include "proto/sanitize.hpp"

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

std::string_view to_string(health_source s) noexcept
{
    switch (s) {
    case health_source::probe: return "probe";
    case health_source::delivery: return "delivery";
    }
    return "?";
}

observation to_observation(const probe_result& r)
{
    observation o;
    o.source = health_source::probe;
    o.ok = r.outcome == probe_outcome::ok;
    o.outcome = to_string(r.outcome);
    if (!o.ok)
        o.stage = r.outcome == probe_outcome::refused || r.outcome == probe_outcome::connect_timeout ? "connect" : "greeting";
    o.detail = r.detail;
    return o;
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

health_table::entry* health_table::slot(const std::string& address, time_point now)
{
    auto it = entries_.find(address);
    if (it != entries_.end())
        return &it->second;
    // Addresses come from remote DNS and from every delivery Postfix logs:
    // keep the table bounded. Forgetting an address only costs one more
    // probe.
    if (entries_.size() >= cfg_.max_entries)
        std::erase_if(entries_, [now](const auto& kv) { return !kv.second.probing && kv.second.next_probe <= now; });
    if (entries_.size() >= cfg_.max_entries)
        return nullptr;
    return &entries_.emplace(address, entry{}).first->second;
}

bool health_table::start_probe(const std::string& address, time_point now)
{
    entry* e = slot(address, now);
    if (!e || e->probing || now < e->next_probe)
        return false;
    e->probing = true;
    return true;
}

void health_table::record(const std::string& address, const probe_result& r, time_point now)
{
    entry* e = slot(address, now);
    if (!e)
        return;
    e->probing = false;
    e->last = r;
    e->probed_at = now;
    observe(address, to_observation(r), now);
}

void health_table::mark_dead(entry& e, time_point now)
{
    e.state = health_state::dead;
    e.probation = false;
    ++e.failures;
    // Doubling backoff: a host that stays dead is asked less and less often,
    // so a busy MTA never hammers it.
    auto backoff = cfg_.dead_backoff;
    for (std::uint32_t i = 1; i < e.failures && backoff < cfg_.max_backoff; ++i)
        backoff *= 2;
    e.next_probe = now + std::min(backoff, cfg_.max_backoff);
}

void health_table::observe(const std::string& address, const observation& o, time_point now)
{
    const bool remote = !o.node.empty();
    if (!remote && on_local_)
        on_local_(address, o);
    entry* found = slot(address, now);
    if (!found)
        return;
    entry& e = *found;
    // Nodes publish in batches and fetch by polling: another node's news
    // can arrive after this node learned something newer itself.
    if (remote && now < e.observed_at)
        return;
    e.observed_at = std::max(e.observed_at, now);
    if (e.recent.size() >= recent_kept)
        e.recent.erase(e.recent.begin());
    e.recent.push_back({o, now});

    const bool delivery = o.source == health_source::delivery;
    if (o.ok) {
        if (!delivery && e.delivery_dead) {
            // The probe only shows the greeting, which this host never
            // stopped giving. Before the backoff ends it changes nothing;
            // after, the host gets one more chance with real mail.
            // The failure count stays, so that failing again doubles the
            // backoff.
            if (now < e.next_probe)
                return;
            e.delivery_dead = false;
            e.probation = true;
            e.state = health_state::healthy;
            e.next_probe = now + cfg_.healthy_ttl;
            return;
        }
        if (delivery) {
            e.delivery_dead = false;
            e.probation = false;
            e.delivery_failures = 0;
        }
        e.state = health_state::healthy;
        e.failures = 0;
        e.next_probe = now + cfg_.healthy_ttl;
        return;
    }
    const bool before_greeting = o.stage == "connect" || o.stage == "greeting";
    if (!delivery || before_greeting || e.probation) {
        // Unreachable or unwilling to greet is the same news from either
        // source; a host on probation has used up its chance.
        if (delivery && !before_greeting)
            e.delivery_dead = true;
        mark_dead(e, now);
        return;
    }
    ++e.delivery_failures;
    if (e.delivery_failures >= std::max<std::uint32_t>(cfg_.delivery_failures, 1) && !e.delivery_dead) {
        e.delivery_dead = true;
        mark_dead(e, now);
    }
}

void health_table::abandon(const std::string& address)
{
    auto it = entries_.find(address);
    if (it != entries_.end())
        it->second.probing = false;
}

std::string format_recent(const health_table::entry& e, health_table::time_point now, std::string_view indent)
{
    std::string out;
    for (auto it = e.recent.rbegin(); it != e.recent.rend(); ++it) {
        const observation& o = it->what;
        out += indent;
        out += to_string(o.source);
        out += ' ';
        out += o.outcome;
        if (!o.stage.empty())
            out += "@" + o.stage;
        if (!o.node.empty())
            out += " on " + proto::sanitize(o.node, 64);
        out += ' ' + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now - it->at).count()) + "s ago";
        if (!o.detail.empty())
            out += ": " + proto::sanitize(o.detail, 120);
        out += '\n';
    }
    return out;
}

}  // namespace mxw::engine
