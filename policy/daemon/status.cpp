#include "daemon/status.hpp"

#include "proto/json.hpp"
#include "proto/prometheus.hpp"

namespace mxw::daemon {

std::string status_text(bool json, const counters& c)
{
    const auto& eng = c.eng;
    const auto& pol = c.pol;
    const auto& conns = c.conns;
    auto s = c.res.stats();
    if (json) {
        proto::json_writer w;
        w.begin_object();
        w.key("policy_connections").value(static_cast<std::int64_t>(conns.active));
        w.key("policy_requests").value(static_cast<std::int64_t>(pol.requests));
        w.key("policy_protocol_errors").value(static_cast<std::int64_t>(pol.protocol_errors));
        w.key("sender_cache_entries").value(static_cast<std::int64_t>(eng.sender_cache_size()));
        w.key("client_cache_entries").value(static_cast<std::int64_t>(eng.client_cache_size()));
        w.key("dns_queries_started").value(static_cast<std::int64_t>(s.started));
        w.key("dns_lookups_coalesced").value(static_cast<std::int64_t>(s.coalesced));
        w.key("dns_lookup_timeouts").value(static_cast<std::int64_t>(s.timeouts));
        w.key("dns_queries_running").value(static_cast<std::int64_t>(s.running));
        w.key("dns_queries_queued").value(static_cast<std::int64_t>(s.queued));
        w.key("socketmap_lookups").value(static_cast<std::int64_t>(c.smap.lookups));
        w.key("route_destinations").value(static_cast<std::int64_t>(c.router.destinations()));
        w.key("health_entries").value(static_cast<std::int64_t>(c.health.size()));
        w.key("probes_running").value(static_cast<std::int64_t>(c.router.probes_running()));
        w.end_object();
        return w.str() + "\n";
    }
    return "policy connections:      " + std::to_string(conns.active) + "\n" +
           "policy requests:         " + std::to_string(pol.requests) + "\n" +
           "policy protocol errors:  " + std::to_string(pol.protocol_errors) + "\n" +
           "sender cache entries:    " + std::to_string(eng.sender_cache_size()) + "\n" +
           "client cache entries:    " + std::to_string(eng.client_cache_size()) + "\n" +
           "dns queries started:     " + std::to_string(s.started) + "\n" +
           "dns lookups coalesced:   " + std::to_string(s.coalesced) + "\n" +
           "dns lookup timeouts:     " + std::to_string(s.timeouts) + "\n" +
           "dns queries in flight:   " + std::to_string(s.running) + " running, " + std::to_string(s.queued) +
           " queued\n" +
           "socketmap lookups:       " + std::to_string(c.smap.lookups) + "\n" +
           "route destinations:      " + std::to_string(c.router.destinations()) + "\n" +
           "health table entries:    " + std::to_string(c.health.size()) + "\n" +
           "probes running:          " + std::to_string(c.router.probes_running()) + "\n";
}

std::string metrics_text(const counters& c, const quarantine_gauge& q, const std::string& transport,
                         const fleet_counts* fleet)
{
    using engine::outcome;
    proto::prometheus_writer w;
    w.family("mxwarden_policy_requests_total", "counter", "Policy requests answered");
    w.sample("mxwarden_policy_requests_total", static_cast<double>(c.pol.requests));
    w.family("mxwarden_policy_protocol_errors_total", "counter", "Policy connections closed for malformed input");
    w.sample("mxwarden_policy_protocol_errors_total", static_cast<double>(c.pol.protocol_errors));
    w.family("mxwarden_decisions_total", "counter", "Check findings in policy decisions, by check and outcome");
    for (std::size_t k = 0; k < 2; ++k) {
        for (std::size_t o = 0; o < engine::outcome_count; ++o) {
            auto n = c.pol.findings[k * engine::outcome_count + o];
            w.sample("mxwarden_decisions_total", static_cast<double>(n),
                     {{"check", engine::to_string(static_cast<engine::check_kind>(k))},
                      {"outcome", engine::to_string(static_cast<outcome>(o))}});
        }
    }
    w.family("mxwarden_policy_actions_total", "counter", "Policy answers by action");
    for (std::size_t a = 0; a < c.pol.actions.size(); ++a)
        w.sample("mxwarden_policy_actions_total", static_cast<double>(c.pol.actions[a]),
                 {{"action", engine::to_string(static_cast<engine::action>(a))}});
    w.family("mxwarden_policy_request_seconds", "histogram", "Time from a complete policy request to its answer");
    w.histogram_samples("mxwarden_policy_request_seconds", c.pol.latency);
    w.family("mxwarden_socketmap_lookups_total", "counter", "Socketmap lookups (transport, tls, relay, mailertable)");
    w.sample("mxwarden_socketmap_lookups_total", static_cast<double>(c.smap.lookups));
    w.family("mxwarden_dns_lookups_total", "counter", "DNS lookups answered, by status and configured transport");
    const auto& by = c.res.by_status();
    for (std::size_t s = 0; s < by.size(); ++s)
        w.sample("mxwarden_dns_lookups_total", static_cast<double>(by[s]),
                 {{"status", dns::to_string(static_cast<dns::status>(s))}, {"transport", transport}});
    w.family("mxwarden_dns_lookup_seconds", "histogram", "Time a DNS lookup took (cached answers included)");
    w.histogram_samples("mxwarden_dns_lookup_seconds", c.res.latency());
    auto st = c.res.stats();
    w.family("mxwarden_dns_queries_started_total", "counter", "Upstream DNS queries sent");
    w.sample("mxwarden_dns_queries_started_total", static_cast<double>(st.started));
    w.family("mxwarden_dns_lookups_coalesced_total", "counter", "Lookups that joined an identical query in flight");
    w.sample("mxwarden_dns_lookups_coalesced_total", static_cast<double>(st.coalesced));
    w.family("mxwarden_dns_queries_in_flight", "gauge", "DNS queries running or waiting for a slot");
    w.sample("mxwarden_dns_queries_in_flight", static_cast<double>(st.running), {{"state", "running"}});
    w.sample("mxwarden_dns_queries_in_flight", static_cast<double>(st.queued), {{"state", "queued"}});
    w.family("mxwarden_probes_total", "counter", "MX banner probes finished, by outcome");
    const auto& probes = c.router.probe_outcomes();
    for (std::size_t o = 0; o < probes.size(); ++o)
        w.sample("mxwarden_probes_total", static_cast<double>(probes[o]),
                 {{"outcome", engine::to_string(static_cast<engine::probe_outcome>(o))}});
    w.family("mxwarden_delivery_outcomes_total", "counter",
             "Postfix delivery attempts read from its log (feedback.source), by outcome");
    for (std::size_t o = 0; o < c.deliveries.size(); ++o)
        w.sample("mxwarden_delivery_outcomes_total", static_cast<double>(c.deliveries[o]),
                 {{"outcome", proto::to_string(static_cast<proto::delivery_outcome>(o))}});
    w.family("mxwarden_probes_running", "gauge", "MX banner probes in flight");
    w.sample("mxwarden_probes_running", static_cast<double>(c.router.probes_running()));
    w.family("mxwarden_cache_entries", "gauge", "Entries in the daemon's caches and tables");
    w.sample("mxwarden_cache_entries", static_cast<double>(c.eng.sender_cache_size()), {{"cache", "sender"}});
    w.sample("mxwarden_cache_entries", static_cast<double>(c.eng.client_cache_size()), {{"cache", "client"}});
    w.sample("mxwarden_cache_entries", static_cast<double>(c.router.destinations()), {{"cache", "route"}});
    w.sample("mxwarden_cache_entries", static_cast<double>(c.health.size()), {{"cache", "health"}});
    w.family("mxwarden_config_reloads_total", "counter", "Configuration reloads (SIGHUP), by result");
    w.sample("mxwarden_config_reloads_total", static_cast<double>(c.reloads.applied), {{"result", "applied"}});
    w.sample("mxwarden_config_reloads_total", static_cast<double>(c.reloads.failed), {{"result", "failed"}});
    w.family("mxwarden_policy_connections", "gauge", "Open policy connections");
    w.sample("mxwarden_policy_connections", static_cast<double>(c.conns.active));
    if (q.known) {
        w.family("mxwarden_quarantine_held", "gauge", "Messages held in the quarantine, by reason");
        for (const auto& [reason, n] : q.held)
            w.sample("mxwarden_quarantine_held", static_cast<double>(n), {{"reason", reason}});
    }
    if (q.known && q.max_bytes > 0) {
        // Alert on bytes / max_bytes > 0.8: at the limit, ingest tempfails.
        w.family("mxwarden_quarantine_bytes", "gauge", "Bytes of the quarantine store holding data");
        w.sample("mxwarden_quarantine_bytes", static_cast<double>(q.bytes));
        w.family("mxwarden_quarantine_max_bytes", "gauge", "The store's size limit (quarantine.max-size)");
        w.sample("mxwarden_quarantine_max_bytes", static_cast<double>(q.max_bytes));
    }
    if (fleet) {
        // Alert on mxwarden_store_up == 0: the node routes from what it
        // knows alone, and dropped grows once its queue is full.
        w.family("mxwarden_store_up", "gauge", "1 when the last round trip to the fleet's store (store.url) worked");
        w.sample("mxwarden_store_up", fleet->up ? 1.0 : 0.0);
        w.family("mxwarden_fleet_observations_total", "counter",
                 "Host health observations shared with the fleet, by direction");
        w.sample("mxwarden_fleet_observations_total", static_cast<double>(fleet->sent), {{"direction", "sent"}});
        w.sample("mxwarden_fleet_observations_total", static_cast<double>(fleet->received),
                 {{"direction", "received"}});
        w.family("mxwarden_fleet_dropped_total", "counter",
                 "Observations and route changes dropped while the fleet's store was unreachable");
        w.sample("mxwarden_fleet_dropped_total", static_cast<double>(fleet->dropped));
    }
    return w.str();
}

std::string status_line(const counters& c)
{
    std::size_t dead = 0;
    for (const auto& [addr, e] : c.health.entries())
        dead += e.state == engine::health_state::dead;
    return "serving: " + std::to_string(c.pol.requests) + " policy requests, " + std::to_string(c.smap.lookups) +
           " socketmap lookups, " + std::to_string(c.router.destinations()) + " destinations, " +
           std::to_string(dead) + " dead hosts, " + std::to_string(c.reloads.applied) + " reloads";
}

}  // namespace mxw::daemon
