// mxwardend: the mxwarden daemon. Wiring only: config, logger, resolver,
// engine, listeners, signals, one io_context on one thread.
#include "base/config.hpp"
#include "base/logging.hpp"
#include "dns/unbound_resolver.hpp"
#include "engine/policy_engine.hpp"
#include "net/control_session.hpp"
#include "net/banner_probe.hpp"
#include "net/listener.hpp"
#include "net/metrics_session.hpp"
#include "net/policy_session.hpp"
#include "net/socketmap_session.hpp"
#include "proto/json.hpp"
#include "proto/prometheus.hpp"
#include "proto/sanitize.hpp"
#include "store/quarantine_store.hpp"
#include "store/route_store.hpp"

#include <boost/asio/thread_pool.hpp>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <csignal>
#include <ctime>
#include <random>
#include <filesystem>
#include <iostream>
#include <sysexits.h>
#include <unistd.h>

using namespace mxw;

namespace {

constexpr std::string_view usage = R"(usage: mxwardend [-c FILE] [--section.key=value ...] [--check-config | --print-config]

Runs in the foreground. With no -c, reads /etc/mxwarden/mxwarden.conf if it
exists, else runs on built-in defaults (policy service on 127.0.0.1:10040,
socketmap on :10041, metrics on :10043, state in daemon.state-dir, which
--print-config shows). Every config key can be given as --section.key=value.
  --check-config   validate the configuration and exit (0 ok, 78 invalid)
  --print-config   print the effective configuration and exit
)";

// The addresses of this machine: handing one of them to Postfix as a port-25
// next hop makes a mail loop ("mail for X loops back to myself").
std::vector<proto::cidr> local_addresses()
{
    std::vector<proto::cidr> out;
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0)
        return out;
    for (ifaddrs* i = list; i; i = i->ifa_next) {
        if (!i->ifa_addr)
            continue;
        char buf[INET6_ADDRSTRLEN];
        const void* a = nullptr;
        if (i->ifa_addr->sa_family == AF_INET)
            a = &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr;
        else if (i->ifa_addr->sa_family == AF_INET6)
            a = &reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr;
        if (a && ::inet_ntop(i->ifa_addr->sa_family, a, buf, sizeof buf))
            if (auto c = proto::parse_cidr(buf))
                out.push_back(*c);
    }
    ::freeifaddrs(list);
    return out;
}

// Between the router's routes and their rows in the route store.
store::saved_route to_saved(const engine::router::saved_route& r)
{
    store::saved_route out;
    out.destination = r.destination;
    out.saved_at = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
    // Only routes that name hosts are worth keeping through an outage.
    if (r.dns.k != engine::route_dns::kind::mx && r.dns.k != engine::route_dns::kind::implicit)
        return out;
    out.implicit = r.dns.k == engine::route_dns::kind::implicit;
    out.ttl = r.dns.ttl;
    out.evidence = r.dns.evidence;
    for (const auto& h : r.dns.hosts)
        out.hosts.push_back(store::saved_host{h.preference, h.name, h.addresses});
    return out;
}

engine::router::saved_route from_saved(const store::saved_route& r)
{
    engine::router::saved_route out;
    out.destination = r.destination;
    out.dns.k = r.implicit ? engine::route_dns::kind::implicit : engine::route_dns::kind::mx;
    out.dns.ttl = r.ttl;
    std::time_t t = static_cast<std::time_t>(r.saved_at);
    std::tm tm{};
    char when[32] = "?";
    if (::gmtime_r(&t, &tm))
        std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    out.dns.evidence = std::string("saved ") + when + ": " + r.evidence;
    for (const auto& h : r.hosts)
        out.dns.hosts.push_back(engine::mx_host{h.preference, h.name, h.addresses});
    return out;
}

struct counters {
    const engine::policy_engine& eng;
    const engine::router& router;
    const engine::health_table& health;
    const dns::unbound_resolver& res;
    const net::policy_service& pol;
    const net::socketmap_service& smap;
    const net::connection_count& conns;
};

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

// Held quarantine entries by reason, refreshed on the store thread: the
// loop never reads SQLite.
struct quarantine_gauge {
    std::vector<std::pair<std::string, std::int64_t>> held;
    std::uint64_t bytes = 0;      ///< pages holding data
    std::uint64_t max_bytes = 0;  ///< quarantine.max-size, "auto" measured now; 0 until a store exists
    bool known = false;
};

std::string metrics_text(const counters& c, const quarantine_gauge& q, const std::string& transport)
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
    w.family("mxwarden_probes_running", "gauge", "MX banner probes in flight");
    w.sample("mxwarden_probes_running", static_cast<double>(c.router.probes_running()));
    w.family("mxwarden_cache_entries", "gauge", "Entries in the daemon's caches and tables");
    w.sample("mxwarden_cache_entries", static_cast<double>(c.eng.sender_cache_size()), {{"cache", "sender"}});
    w.sample("mxwarden_cache_entries", static_cast<double>(c.eng.client_cache_size()), {{"cache", "client"}});
    w.sample("mxwarden_cache_entries", static_cast<double>(c.router.destinations()), {{"cache", "route"}});
    w.sample("mxwarden_cache_entries", static_cast<double>(c.health.size()), {{"cache", "health"}});
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
    return w.str();
}

}  // namespace

int main(int argc, char** argv)
{
    static constexpr std::string_view flags[] = {"--check-config", "--print-config"};
    auto cmd = base::parse_command_line(argc, argv, flags);
    if (cmd.has("--help")) {
        std::cout << usage;
        return 0;
    }
    if (cmd.has("--version")) {
        std::cout << "mxwardend " MXWARDEN_VERSION "\n";
        return 0;
    }
    if (!cmd.positional.empty())
        cmd.errors.push_back("unexpected argument '" + cmd.positional.front() + "'");
    auto loaded = base::load_values(cmd.config_file, cmd.overrides);
    for (auto& e : cmd.errors)
        loaded.errors.push_back(std::move(e));
    std::vector<std::string> errors = loaded.errors;
    std::optional<base::config> cfg;
    if (errors.empty())
        cfg = base::build_config(loaded.values, std::filesystem::current_path().string(), errors);
    if (!cfg) {
        for (const auto& e : errors)
            std::cerr << "mxwardend: config: " << e << "\n";
        return EX_CONFIG;
    }
    if (cmd.has("--print-config")) {
        std::cout << base::format_config(loaded.values);
        return 0;
    }
    if (cmd.has("--check-config")) {
        // libunbound's own checks (forwarders, trust anchor) too, so the
        // units' ExecStartPre catches what would fail the start.
        asio::io_context check_io(1);
        std::string why;
        if (!dns::unbound_resolver::create(check_io, cfg->dns, why)) {
            std::cerr << "mxwardend: config: " << why << "\n";
            return EX_CONFIG;
        }
        std::cout << "mxwardend: configuration OK ("
                  << (loaded.file.empty() ? std::string("built-in defaults") : loaded.file) << ")\n";
        return 0;
    }

    std::error_code fs_ec;
    std::filesystem::create_directories(cfg->state_dir, fs_ec);
    if (fs_ec) {
        std::cerr << "mxwardend: cannot create state directory " << cfg->state_dir << ": " << fs_ec.message() << "\n";
        return EX_CANTCREAT;
    }

    base::logger log(cfg->log_syslog, "mxwardend");
    ::signal(SIGPIPE, SIG_IGN);  // a peer that hangs up must cost a write error, not the daemon

    asio::io_context io(1);
    std::string err;
    auto resolver = dns::unbound_resolver::create(io, cfg->dns, err);
    if (!resolver) {
        std::cerr << "mxwardend: config: " << err << "\n";
        return EX_CONFIG;
    }
    log.set_scheduler([&io](std::function<void()> f) { asio::post(io, std::move(f)); });

    engine::policy_engine eng(cfg->policy, *resolver, [] { return dns::clock::now(); });
    net::policy_service policy{eng, log, cfg->policy_idle_timeout, cfg->policy.deadline_action};
    net::connection_count policy_conns{cfg->policy_max_connections};
    net::connection_count control_conns{64};
    engine::health_table health(cfg->health);
    net::banner_prober prober(io.get_executor(), cfg->probe_connect_timeout, cfg->probe_banner_timeout);
    auto routing = cfg->routing;
    if (cfg->deny_local_addresses)
        for (const auto& a : local_addresses())
            routing.deny.push_back(a);
    engine::router router(routing, *resolver, prober, health, [] { return dns::clock::now(); }, io.get_executor(),
                          std::random_device{}(), [&log](const std::string& line) { log.info(line); });
    // Last-known-good routes: loaded before serving (a restart during a DNS
    // outage still routes, seed 000), written on their own thread so the
    // loop never waits on the disk.
    std::unique_ptr<store::route_store> routes;
    try {
        routes = std::make_unique<store::route_store>(cfg->state_dir + "/routes.db");
        std::vector<engine::router::saved_route> restored;
        for (const auto& r : routes->load(routing.max_destinations))
            restored.push_back(from_saved(r));
        router.restore(restored);
        log.info("event=routes-restored count=" + std::to_string(restored.size()));
    } catch (const store::sqlite_error& e) {
        // Routing works without it, only not through a restart in an outage.
        log.error("event=route-store-error error=" + proto::log_value(e.what()) + " persist=no");
        routes.reset();
    }
    asio::thread_pool store_thread(1);
    if (routes) {
        router.on_route_changed([&](const engine::router::saved_route& r) {
            asio::post(store_thread, [&, row = to_saved(r)] {
                try {
                    routes->save(row);
                } catch (const store::sqlite_error& e) {
                    asio::post(io, [&log, what = std::string(e.what()), d = row.destination] {
                        log.error("event=route-store-error destination=" + proto::log_value(d) +
                                  " error=" + proto::log_value(what));
                    });
                }
            });
        });
    }
    // Store upkeep on the store thread, once a minute: the held-mail gauge
    // for the metrics, and retention (released and deleted entries older
    // than quarantine.retention go; held mail only ever by an admin's hand),
    // at start and then hourly.
    quarantine_gauge qgauge;
    asio::steady_timer upkeep_timer(io);
    std::function<void(std::chrono::seconds, unsigned)> upkeep = [&](std::chrono::seconds delay, unsigned tick) {
        upkeep_timer.expires_after(delay);
        upkeep_timer.async_wait([&, tick](boost::system::error_code ec) {
            if (ec)
                return;
            bool purge = tick % 60 == 0;
            asio::post(store_thread, [&, purge, db = cfg->quarantine.database, keep = cfg->quarantine.retention,
                                      max = cfg->quarantine.max_bytes] {
                std::string line;
                quarantine_gauge g;
                try {
                    if (std::filesystem::exists(db)) {
                        store::quarantine_store q(db, store::database::mode::read_write);
                        if (purge) {
                            auto cutoff = std::chrono::duration_cast<std::chrono::seconds>(
                                              (std::chrono::system_clock::now() - keep).time_since_epoch())
                                              .count();
                            if (auto n = q.purge(cutoff); n > 0)
                                line = "event=quarantine-purge removed=" + std::to_string(n);
                        }
                        for (const auto& r : q.stats())
                            if (r.state == store::entry_state::held)
                                g.held.emplace_back(r.reason, r.count);
                        g.bytes = q.usage().used_bytes;
                        g.max_bytes = q.max_bytes(max);
                    }
                    g.known = true;
                } catch (const std::exception& e) {
                    line = "event=quarantine-upkeep-error error=" + proto::log_value(e.what());
                }
                asio::post(io, [&, line, g = std::move(g)]() mutable {
                    if (!line.empty())
                        log.info(line);
                    if (g.known)
                        qgauge = std::move(g);
                });
            });
            upkeep(std::chrono::seconds(60), tick + 1);
        });
    };
    upkeep(std::chrono::seconds(0), 0);
    net::socketmap_service socketmap{router, log, cfg->policy_idle_timeout};
    net::connection_count socketmap_conns{cfg->policy_max_connections};
    counters count{eng, router, health, *resolver, policy, socketmap, policy_conns};
    net::control_service control{eng, router, log, [&](bool json) { return status_text(json, count); }};
    const std::string dns_transport = resolver->upstream().substr(resolver->upstream().rfind('=') + 1);
    net::metrics_service metrics{[&] { return metrics_text(count, qgauge, dns_transport); }};
    net::connection_count metrics_conns{16};

    std::vector<std::unique_ptr<net::listener>> listeners;
    try {
        listeners.push_back(net::start_listener(
            io, cfg->listen_policy, "policy",
            [&policy](asio::ip::tcp::socket s) { return net::run_policy_session(std::move(s), policy); },
            [&policy](asio::local::stream_protocol::socket s) { return net::run_policy_session(std::move(s), policy); },
            policy_conns, log, 0666));
        listeners.push_back(net::start_listener(
            io, cfg->listen_socketmap, "socketmap",
            [&socketmap](asio::ip::tcp::socket s) { return net::run_socketmap_session(std::move(s), socketmap); },
            [&socketmap](asio::local::stream_protocol::socket s) {
                return net::run_socketmap_session(std::move(s), socketmap);
            },
            socketmap_conns, log, 0666));
        // The control socket answers diagnostics only, but still: owner and
        // group only.
        listeners.push_back(net::start_listener(
            io, cfg->listen_control, "control",
            [&control](asio::ip::tcp::socket s) { return net::run_control_session(std::move(s), control); },
            [&control](asio::local::stream_protocol::socket s) {
                return net::run_control_session(std::move(s), control);
            },
            control_conns, log, 0660));
        if (cfg->listen_metrics)
            listeners.push_back(net::start_listener(
                io, *cfg->listen_metrics, "metrics",
                [&metrics](asio::ip::tcp::socket s) { return net::run_metrics_session(std::move(s), metrics); },
                [&metrics](asio::local::stream_protocol::socket s) {
                    return net::run_metrics_session(std::move(s), metrics);
                },
                metrics_conns, log, 0660));
    } catch (const std::system_error& e) {
        std::cerr << "mxwardend: " << e.what() << "\n";
        return EX_UNAVAILABLE;
    }

    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code ec, int sig) {
        if (ec)
            return;
        log.info("event=stop signal=" + std::to_string(sig));
        for (auto& l : listeners)
            l->close();
        upkeep_timer.cancel();
        io.stop();
    });

    log.info("event=ready version=" MXWARDEN_VERSION " policy=" + proto::log_value(proto::to_string(cfg->listen_policy)) +
             " socketmap=" + proto::log_value(proto::to_string(cfg->listen_socketmap)) +
             " control=" + proto::log_value(proto::to_string(cfg->listen_control)) + " metrics=" +
             proto::log_value(cfg->listen_metrics ? proto::to_string(*cfg->listen_metrics) : "off") + " state_dir=" +
             proto::log_value(cfg->state_dir) + " config=" +
             proto::log_value(loaded.file.empty() ? "built-in-defaults" : loaded.file));
    log.flush();
    io.run();
    store_thread.join();  // every route change queued so far reaches the disk
    log.flush();
    return 0;
}
