#include "engine/router.hpp"

#include "proto/json.hpp"
#include "proto/sanitize.hpp"

namespace mxw::engine {
namespace {

std::string age(std::chrono::steady_clock::duration d)
{
    return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count()) + "s";
}

std::int64_t seconds(std::chrono::steady_clock::duration d)
{
    return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

// Whether the dnsfilter map drops this MX host's record of `domain` now.
bool mx_dropped(const destination_table& t, const std::string& domain, const mx_host& h)
{
    proto::dns_filter_record r{domain, 0, proto::dns_filter_type::mx, h.preference, h.name};
    return dnsfilter_answer(t, r).st == map_answer::status::ok;
}

}  // namespace

router::router(routing_config cfg, dns::resolver& r, prober& p, health_table& h, clock_fn now,
               asio::any_io_executor ex, std::uint64_t seed, log_fn log)
    : table_(std::move(cfg), r, p, h, std::move(now), std::move(ex), seed, std::move(log))
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
    for (const auto& ex : config().exclude) {
        if (ex.front() == '.' ? (d.size() > ex.size() && d.ends_with(ex)) : d == ex)
            return {};
    }
    return d;
}

asio::awaitable<map_answer> router::lookup(const std::string& map, const std::string& key)
{
    const map_entry* m = find_map(map);
    if (!m)
        co_return map_answer{};
    co_return co_await m->handler(*this, key);
}

asio::awaitable<route_choice> router::route(const std::string& domain)
{
    const routing_config& cfg = config();
    if (domain.empty() || cfg.routing_mode == routing_config::mode::off)
        co_return route_choice{};
    // Smart host mode: every destination in scope goes to the one smart
    // host, tracked as a destination of its own. Postfix's "*" stays
    // NOTFOUND even here (destination_of gives ""): it follows a NOTFOUND
    // for the address itself, i.e. an excluded (local) domain, which must
    // keep Postfix's routing.
    const std::string tracked =
        cfg.routing_mode == routing_config::mode::smarthost ? table_.smarthost_destination() : domain;
    if (!co_await table_.async_prepare(tracked, cfg.answer_budget))
        co_return route_choice{};
    co_return table_.choose(tracked);
}

asio::awaitable<std::string> router::explain(const std::string& domain_in, bool json)
{
    const std::string domain = destination_of(domain_in);
    if (domain.empty())
        co_return json ? "{\"error\":\"out of scope\"}\n" : "out of scope (excluded, wildcard or address literal)\n";
    const std::string key = "postmaster@" + domain;
    const std::string map = "transport";
    // In smart host mode every domain routes to the smart host: explain that.
    const routing_config& cfg = config();
    const std::string tracked =
        cfg.routing_mode == routing_config::mode::smarthost ? table_.smarthost_destination() : domain;
    // A first lookup starts the work; then wait as long as resolving may take.
    map_answer a = co_await lookup(map, key);
    if (const destination* first = table_.find(tracked); first && (!first->resolved || first->resolving))
        co_await table_.async_wait(tracked, cfg.resolve_deadline);
    a = co_await lookup(map, key);
    // Not tracked (routing off, or the table full): explain an empty route.
    const destination untracked;
    const destination* found = table_.find(tracked);
    const destination& d = found ? *found : untracked;
    const health_table& health = table_.health();
    auto now = table_.now();
    std::string reply = a.st == map_answer::status::ok ? "OK " + a.data : "NOTFOUND";
    if (json) {
        proto::json_writer w;
        w.begin_object().key("domain").value(domain);
        if (tracked != domain)
            w.key("smarthost").value(cfg.smarthost + ":" + std::to_string(cfg.smarthost_port));
        w.key("dns").value(to_string(d.dns.k));
        w.key("dns_failing").value(d.dns_failing).key("evidence").value(d.dns.evidence);
        if (d.dns_failing)
            w.key("dns_failure").value(d.failure);
        w.key("steer").value(cfg.steer == steer_mode::dns_filter ? "dns-filter" : "transport");
        w.key("hosts").begin_array();
        for (const auto& h : d.dns.hosts) {
            w.begin_object().key("name").value(h.name).key("preference").value(std::int64_t{h.preference});
            if (cfg.steer == steer_mode::dns_filter)
                w.key("dnsfilter").value(mx_dropped(table_, domain, h) ? "ignore" : "keep");
            w.key("addresses").begin_array();
            for (const auto& addr : h.addresses) {
                const auto* e = health.find(addr);
                w.begin_object().key("address").value(addr).key("denied").value(denied(cfg, addr));
                w.key("health").value(to_string(e ? e->state : health_state::unknown));
                if (e && e->probed_at != time_point{}) {
                    w.key("probe").value(to_string(e->last.outcome)).key("probe_detail").value(e->last.detail);
                    w.key("probe_age_seconds").value(seconds(now - e->probed_at));
                }
                if (e) {
                    w.key("recent").begin_array();
                    for (auto it = e->recent.rbegin(); it != e->recent.rend(); ++it) {
                        const observation& o = it->what;
                        w.begin_object().key("source").value(to_string(o.source)).key("ok").value(o.ok);
                        w.key("outcome").value(o.outcome).key("stage").value(o.stage).key("node").value(o.node);
                        w.key("age_seconds").value(seconds(now - it->at)).key("detail").value(o.detail).end_object();
                    }
                    w.end_array();
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
        out += "via:      smart host " + cfg.smarthost + ":" + std::to_string(cfg.smarthost_port) + "\n";
    out += "dns:      " + std::string(to_string(d.dns.k)) + (d.dns_failing ? " (failing now; last-known-good)" : "") + "\n";
    out += "evidence: " + proto::sanitize(d.dns.evidence, 4000) + "\n";
    if (d.dns_failing)
        out += "failure:  " + proto::sanitize(d.failure, 4000) + "\n";
    if (cfg.steer == steer_mode::dns_filter)
        out += "steer:    dns-filter (Postfix routes; the dnsfilter map drops the records of dead hosts)\n";
    for (const auto& h : d.dns.hosts) {
        out += "mx " + std::to_string(h.preference) + " " + h.name;
        if (cfg.steer == steer_mode::dns_filter && mx_dropped(table_, domain, h))
            out += "  (dnsfilter: IGNORE)";
        out += "\n";
        for (const auto& addr : h.addresses) {
            const auto* e = health.find(addr);
            out += "  " + addr + "  " + std::string(to_string(e ? e->state : health_state::unknown));
            if (denied(cfg, addr))
                out += " (denied: routing.deny-addresses)";
            if (e && e->probed_at != time_point{})
                out += "  probe=" + std::string(to_string(e->last.outcome)) + " " + age(now - e->probed_at) +
                       " ago " + proto::sanitize(e->last.detail, 120);
            out += "\n";
            if (e)
                out += format_recent(*e, now, "      ");
        }
    }
    out += "postfix:  " + proto::sanitize(reply, 2000) + "\n";
    co_return out;
}

}  // namespace mxw::engine
