// mxwardend: the mxwarden daemon. Wiring and lifecycle: config, logger,
// resolver, engine, listeners (bound here or handed over by systemd), and
// the signals: SIGHUP reloads the config live, SIGTERM drains. One
// io_context on one thread.
#include "base/args.hpp"
#include "base/config.hpp"
#include "base/logging.hpp"
#include "daemon/fleet_link.hpp"
#include "daemon/health_view.hpp"
#include "daemon/status.hpp"
#include "daemon/systemd.hpp"
#include "dns/resolver_switch.hpp"
#include "engine/policy_engine.hpp"
#include "net/control_session.hpp"
#include "net/banner_probe.hpp"
#include "net/listener.hpp"
#include "net/log_follower.hpp"
#include "net/metrics_session.hpp"
#include "net/policy_session.hpp"
#include "net/socketmap_session.hpp"
#include "proto/postfix_log.hpp"
#include "proto/sanitize.hpp"
#include "store/open_store.hpp"
#include "store/route_store.hpp"

#include <boost/asio/thread_pool.hpp>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <array>
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
SIGHUP re-reads the config and applies it live; SIGTERM answers the requests
in flight (daemon.drain-timeout) and exits 0. Under systemd it takes its
policy and socketmap sockets from socket activation (LISTEN_FDNAMES policy,
socketmap) and reports READY, STATUS and watchdog pings.
  --check-config   validate the configuration and exit (0 ok, 78 invalid)
  --print-config   print the effective configuration and exit
)";

// The addresses of this machine: handing one of them to Postfix as a port-25
// next hop makes a mail loop ("mail for X loops back to myself").
/// What one Postfix delivery attempt tells the health table.
engine::observation delivery_observation(const proto::delivery_event& ev)
{
    return {.source = engine::health_source::delivery,
            .ok = ev.outcome == proto::delivery_outcome::sent,
            .outcome = std::string(proto::to_string(ev.outcome)),
            .stage = ev.stage,
            .detail = ev.detail,
            .node = ""};
}

std::string feedback_name(const base::feedback_settings& f)
{
    switch (f.source) {
    case base::feedback_settings::kind::none: return "none";
    case base::feedback_settings::kind::journal: return "journal";
    case base::feedback_settings::kind::file: return "file:" + f.path;
    }
    return "?";
}

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

// The routing settings as the router uses them: the configured deny list
// plus, unless switched off, this machine's own addresses (read again at
// every reload: interfaces change).
engine::routing_config effective_routing(const base::config& cfg)
{
    auto routing = cfg.routing;
    if (cfg.deny_local_addresses)
        for (const auto& a : local_addresses())
            routing.deny.push_back(a);
    return routing;
}

std::string join(const std::vector<std::string>& v)
{
    std::string out;
    for (const auto& s : v)
        out += (out.empty() ? "" : ",") + s;
    return out;
}

base::log_level to_level(engine::router::severity s)
{
    switch (s) {
    case engine::router::severity::warning: return base::log_level::warning;
    case engine::router::severity::error: return base::log_level::error;
    default: return base::log_level::info;
    }
}

}  // namespace

int main(int argc, char** argv)
{
    static constexpr base::arg_option options[] = {
        {"-h"}, {"--help"}, {"--version"}, {"--check-config"}, {"--print-config"}};
    auto args = base::arg_views(argc, argv);
    auto cmd = base::parse_args(args, {options});
    if (cmd.has("-h") || cmd.has("--help")) {
        std::cout << usage;
        return 0;
    }
    if (cmd.has("--version")) {
        std::cout << "mxwardend " MXWARDEN_VERSION "\n";
        return 0;
    }
    if (!cmd.positional.empty())
        cmd.errors.push_back("unexpected argument '" + proto::sanitize(cmd.positional.front()) + "'");
    // Relative paths are taken against the directory the daemon started in,
    // at start and at every reload alike.
    const std::string start_dir = std::filesystem::current_path().string();
    auto start = base::load_config(cmd.config_file, cmd.overrides, start_dir, cmd.errors);
    const base::loaded& loaded = start.raw;
    std::optional<base::config>& cfg = start.cfg;
    if (!cfg) {
        for (const auto& e : start.errors)
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
        // A store written by a newer mxwarden is refused here, before the
        // start; one that is down only warns (routing works without it).
        const store::store_location where{cfg->quarantine.database, cfg->store.url, cfg->store.node};
        auto st = store::check_store(where);
        if (st.what == store::store_check::kind::newer) {
            std::cerr << "mxwardend: config: store " << store::describe(where) << ": " << st.detail << "\n";
            return EX_CONFIG;
        }
        if (st.what == store::store_check::kind::unreachable)
            std::cerr << "mxwardend: config: warning: store " << store::describe(where)
                      << " is unreachable now: " << proto::sanitize(st.detail, 300) << "\n";
        for (const auto& w : base::config_warnings(*cfg))
            std::cerr << "mxwardend: config: warning: " << w << "\n";
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

    base::logger log(cfg->log_syslog, "mxwardend", cfg->log_level);
    ::signal(SIGPIPE, SIG_IGN);  // a peer that hangs up must cost a write error, not the daemon
    // Until the reload handler is installed below, a SIGHUP (an admin's
    // habit) must not end the daemon: its default action would.
    ::signal(SIGHUP, SIG_IGN);
    // Taken before anything could start a process: the release path runs
    // sendmail, which must not inherit systemd's sockets.
    auto inherited = daemon::inherited_sockets();

    asio::io_context io(1);
    std::string err;
    std::shared_ptr<dns::unbound_resolver> first_resolver = dns::unbound_resolver::create(io, cfg->dns, err);
    if (!first_resolver) {
        std::cerr << "mxwardend: config: " << err << "\n";
        return EX_CONFIG;
    }
    dns::resolver_switch resolver(std::move(first_resolver));
    log.set_scheduler([&io](std::function<void()> f) { asio::post(io, std::move(f)); });

    engine::policy_engine eng(cfg->policy, resolver, [] { return dns::clock::now(); });
    net::policy_service policy{eng, log, cfg->policy_idle_timeout, cfg->policy.deadline_action};
    net::connection_count policy_conns{cfg->policy_max_connections};
    net::connection_count control_conns{64};
    engine::health_table health(cfg->health);
    net::banner_prober prober(io.get_executor(), cfg->probe_connect_timeout, cfg->probe_banner_timeout);
    engine::router router(effective_routing(*cfg), resolver, prober, health, [] { return dns::clock::now(); },
                          io.get_executor(), std::random_device{}(),
                          [&log](engine::router::severity s, const std::string& line) { log.write(to_level(s), line); });
    // Last-known-good routes: loaded before serving (a restart during a DNS
    // outage still routes, seed 000), written on their own thread so the
    // loop never waits on the disk. In a fleet (store.url) they come from
    // the fleet, whose newest route per destination any node may have
    // saved; this machine's routes.db is still written, and used when the
    // fleet's database cannot be reached at start.
    std::unique_ptr<store::fleet_state> fleet;
    std::vector<store::saved_route> saved;
    bool from_fleet = false;
    if (!cfg->store.url.empty()) {
        try {
            fleet = store::open_fleet_state(cfg->store.url, cfg->store.node);
            saved = fleet->load_routes(cfg->routing.max_destinations);
            from_fleet = true;
        } catch (const store::store_error& e) {
            log.error("event=fleet-routes-unavailable error=" + proto::log_value(e.what()) + " routes-from=routes.db");
            fleet.reset();
        }
    }
    std::unique_ptr<store::route_store> routes;
    try {
        routes = std::make_unique<store::route_store>(cfg->state_dir + "/routes.db");
        if (!from_fleet)
            saved = routes->load(cfg->routing.max_destinations);
    } catch (const store::sqlite_error& e) {
        // Routing works without it, only not through a restart in an outage.
        log.error("event=route-store-error error=" + proto::log_value(e.what()) + " persist=no");
        routes.reset();
    }
    {
        std::vector<engine::router::saved_route> restored;
        for (const auto& r : saved)
            restored.push_back(from_saved(r));
        router.restore(restored);
        log.info("event=routes-restored count=" + std::to_string(restored.size()) +
                 " from=" + (from_fleet ? "fleet" : "routes.db"));
    }
    asio::thread_pool store_thread(1);
    // The fleet's shared health and routes: this node's own observations
    // and route changes go out, the other nodes' come in to the health
    // table (marked with their node, so they never go out again).
    std::unique_ptr<daemon::fleet_link> fleet_link;
    if (!cfg->store.url.empty()) {
        auto wall_ms = [] {
            return std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                .count();
        };
        // A node that starts learns what the fleet found within the longest
        // backoff: anything older has been probed again since.
        const store::fleet_cursor since{
            0, wall_ms() - std::chrono::duration_cast<std::chrono::milliseconds>(cfg->health.max_backoff).count()};
        fleet_link = std::make_unique<daemon::fleet_link>(
            io.get_executor(), store_thread.get_executor(),
            [url = cfg->store.url, node = cfg->store.node] { return store::open_fleet_state(url, node); },
            std::move(fleet), cfg->store.node, since, daemon::fleet_settings{},
            [&health, wall_ms](std::vector<store::shared_observation> in) {
                const auto now = dns::clock::now();
                const auto wall_now = wall_ms();
                for (const auto& s : in)
                    if (auto r = daemon::from_shared(s, wall_now, now))
                        health.observe(r->address, r->what, r->at);
            },
            [&log](base::log_level l, const std::string& line) { log.write(l, line); });
        health.on_local_observation([&fleet_link, wall_ms](const std::string& address, const engine::observation& o) {
            fleet_link->publish(daemon::to_shared(address, o, wall_ms()));
        });
        fleet_link->start();
    }
    if (routes || fleet_link) {
        router.on_route_changed([&](const engine::router::saved_route& r) {
            auto row = to_saved(r);
            if (fleet_link)
                fleet_link->save_route(row);
            if (!routes)
                return;
            asio::post(store_thread, [&, row = std::move(row)] {
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
    daemon::quarantine_gauge qgauge;
    asio::steady_timer upkeep_timer(io);
    std::function<void(std::chrono::seconds, unsigned)> upkeep = [&](std::chrono::seconds delay, unsigned tick) {
        upkeep_timer.expires_after(delay);
        upkeep_timer.async_wait([&, tick](boost::system::error_code ec) {
            if (ec)
                return;
            bool purge = tick % 60 == 0;
            asio::post(store_thread, [&, purge, where = store::store_location{cfg->quarantine.database, cfg->store.url, cfg->store.node},
                                      keep = cfg->quarantine.retention, max = cfg->quarantine.max_bytes] {
                std::string line;
                daemon::quarantine_gauge g;
                try {
                    if (auto q = store::open_quarantine(where, store::open_mode::existing)) {
                        if (purge) {
                            auto cutoff = std::chrono::duration_cast<std::chrono::seconds>(
                                              (std::chrono::system_clock::now() - keep).time_since_epoch())
                                              .count();
                            if (auto n = q->purge(cutoff); n > 0)
                                line = "event=quarantine-purge removed=" + std::to_string(n);
                        }
                        for (const auto& r : q->stats())
                            if (r.state == store::entry_state::held)
                                g.held.emplace_back(r.reason, r.count);
                        g.bytes = q->usage().used_bytes;
                        g.max_bytes = q->max_bytes(max);
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
    daemon::reload_counts reloads;
    // Health from real deliveries (issue 11): Postfix's own log, read on
    // this loop a bounded number of lines per tick.
    daemon::delivery_counts deliveries{};
    // Postfix logs one status line per recipient: a session that carried N
    // recipients is one attempt, not N. Its lines come together, so a few
    // recent (queue id, address, outcome) keys, seconds old, find the repeats.
    struct seen_attempt {
        std::string key;
        dns::clock::time_point at;
    };
    std::array<seen_attempt, 32> recent_attempts;
    std::size_t next_attempt = 0;
    auto repeated = [&](const proto::delivery_event& ev, dns::clock::time_point now) {
        if (ev.queue_id.empty())
            return false;
        std::string key = ev.queue_id + ' ' + ev.address + ' ' + std::string(proto::to_string(ev.outcome));
        for (const auto& a : recent_attempts)
            if (a.key == key && now - a.at < std::chrono::seconds(10))
                return true;
        recent_attempts[next_attempt] = {std::move(key), now};
        next_attempt = (next_attempt + 1) % recent_attempts.size();
        return false;
    };
    auto on_log_line = [&](const net::log_record& r) {
        std::string_view program = r.program;
        std::string_view message = r.message;
        if (program.empty()) {
            auto line = proto::split_syslog_line(r.message);
            if (!line)
                return;
            program = line->program;
            message = line->message;
        }
        auto ev = proto::parse_smtp_message(program, message);
        auto now = dns::clock::now();
        if (!ev || repeated(*ev, now))
            return;
        ++deliveries[static_cast<std::size_t>(ev->outcome)];
        const engine::observation seen = delivery_observation(*ev);
        const engine::health_state before = health.state(ev->address);
        health.observe(ev->address, seen, now);
        const engine::health_state after = health.state(ev->address);
        // Postfix logs every delivery itself; ours says what it did to the
        // host: a failure, or a state change (a host dead from deliveries,
        // or revived by one).
        if (seen.ok && before == after)
            return;
        std::string line = "event=delivery address=" + proto::log_value(ev->address) +
                           " host=" + proto::log_value(ev->host) + " queue_id=" + proto::log_value(ev->queue_id) +
                           " outcome=" + seen.outcome + " stage=" + proto::log_value(seen.stage) +
                           " health=" + std::string(engine::to_string(after)) + " detail=" + proto::log_value(seen.detail);
        if (after == engine::health_state::dead && before != after)
            log.warning(line);
        else
            log.info(line);
    };
    std::unique_ptr<net::log_follower> follower;
    base::feedback_settings following;
    auto follow = [&](const base::feedback_settings& f) {
        if (f == following)
            return;
        follower.reset();
        following = f;
        if (f.source == base::feedback_settings::kind::none)
            return;
        follower = std::make_unique<net::log_follower>(
            io.get_executor(),
            f.source == base::feedback_settings::kind::journal ? net::journal_source() : net::file_source(f.path),
            on_log_line);
        log.info("event=feedback-follow source=" + proto::log_value(feedback_name(f)));
    };
    follow(cfg->feedback);
    daemon::counters count{eng, router, health, resolver, policy, socketmap, policy_conns, reloads, deliveries};
    // The last 24 hours for `mxwarden health`: empty at start (not
    // persisted), sampled by the tick below and just before each report.
    engine::activity_ring activity;
    auto unix_now = [] {
        return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    };
    daemon::activity_sample(activity, count, unix_now());
    net::control_service control{eng, router, log, [&](bool json) { return daemon::status_text(json, count); }};
    control.health = [&] {
        auto now = unix_now();
        daemon::activity_sample(activity, count, now);
        return proto::encode_health_report(daemon::health_report_of(count, activity, dns::clock::now(), now));
    };
    auto transport_of = [&] {
        const auto& up = resolver.current().upstream();
        return up.substr(up.rfind('=') + 1);
    };
    std::string dns_transport = transport_of();
    net::metrics_service metrics{[&] { return daemon::metrics_text(count, qgauge, dns_transport, fleet_link ? &fleet_link->counts() : nullptr); }};
    net::connection_count metrics_conns{16};

    // Each listener from systemd's socket of the same name when there is
    // one (socket activation keeps connections waiting in the kernel across
    // a restart), else bound here.
    std::vector<std::unique_ptr<net::listener>> listeners;
    auto open_listener = [&](const proto::endpoint& where, const std::string& name, net::tcp_session on_tcp,
                             net::unix_session on_unix, net::connection_count& conns, unsigned mode) {
        auto it = std::find_if(inherited.begin(), inherited.end(),
                               [&](const daemon::inherited_socket& s) { return s.name == name; });
        if (it == inherited.end()) {
            listeners.push_back(net::start_listener(io, where, name, std::move(on_tcp), std::move(on_unix), conns,
                                                    log, mode));
            return;
        }
        std::string bound = net::describe_socket(it->fd);
        listeners.push_back(
            net::adopt_listener(io, it->fd, name, std::move(on_tcp), std::move(on_unix), conns, log));
        log.info("event=listen-inherited listener=" + name + " address=" + proto::log_value(bound));
        if (bound != proto::to_string(where))
            log.warning("event=listen-mismatch listener=" + name + " socket-unit=" + proto::log_value(bound) +
                        " config=" + proto::log_value(proto::to_string(where)) + " using=socket-unit");
        inherited.erase(it);
    };
    try {
        open_listener(
            cfg->listen_policy, "policy",
            [&policy](asio::ip::tcp::socket s) { return net::run_policy_session(std::move(s), policy); },
            [&policy](asio::local::stream_protocol::socket s) { return net::run_policy_session(std::move(s), policy); },
            policy_conns, 0666);
        open_listener(
            cfg->listen_socketmap, "socketmap",
            [&socketmap](asio::ip::tcp::socket s) { return net::run_socketmap_session(std::move(s), socketmap); },
            [&socketmap](asio::local::stream_protocol::socket s) {
                return net::run_socketmap_session(std::move(s), socketmap);
            },
            socketmap_conns, 0666);
        // The control socket answers diagnostics only, but still: owner and
        // group only.
        open_listener(
            cfg->listen_control, "control",
            [&control](asio::ip::tcp::socket s) { return net::run_control_session(std::move(s), control); },
            [&control](asio::local::stream_protocol::socket s) {
                return net::run_control_session(std::move(s), control);
            },
            control_conns, 0660);
        if (cfg->listen_metrics)
            open_listener(
                *cfg->listen_metrics, "metrics",
                [&metrics](asio::ip::tcp::socket s) { return net::run_metrics_session(std::move(s), metrics); },
                [&metrics](asio::local::stream_protocol::socket s) {
                    return net::run_metrics_session(std::move(s), metrics);
                },
                metrics_conns, 0660);
    } catch (const std::system_error& e) {
        std::cerr << "mxwardend: " << e.what() << "\n";
        return EX_UNAVAILABLE;
    }
    for (const auto& s : inherited) {
        log.warning("event=listen-unused fd=" + std::to_string(s.fd) + " name=" + proto::log_value(s.name) +
                    " address=" + proto::log_value(net::describe_socket(s.fd)) +
                    " reason=no-listener-of-that-name");
        ::close(s.fd);
    }

    // SIGHUP: re-read the same file with the same command-line overrides.
    // Everything is validated (libunbound's settings too) before anything
    // changes; a config that fails keeps the old one whole.
    base::value_map values = loaded.values;
    auto config_name = [&](const base::loaded& l) {
        const std::string& f = !l.file.empty() ? l.file : !cmd.config_file.empty() ? cmd.config_file : loaded.file;
        return proto::log_value(f.empty() ? "built-in-defaults" : f);
    };
    auto reload = [&] {
        daemon::notify("RELOADING=1");
        auto reread = base::load_config(cmd.config_file, cmd.overrides, start_dir);
        base::loaded& fresh = reread.raw;
        std::vector<std::string>& why = reread.errors;
        std::optional<base::config>& next = reread.cfg;
        std::shared_ptr<dns::unbound_resolver> next_resolver;
        if (next && !(next->dns == cfg->dns)) {
            std::string e;
            next_resolver = dns::unbound_resolver::create(io, next->dns, e);
            if (!next_resolver)
                why.push_back(e);
        }
        if (!next || !why.empty()) {
            ++reloads.failed;
            log.error("event=reload-failed config=" + config_name(fresh) + " error=" + proto::log_value(join(why)) +
                      " keeping=previous-config");
            daemon::notify("READY=1\nSTATUS=reload failed, previous config kept: " + join(why));
            return;
        }
        auto changed = base::changed_keys(values, fresh.values);
        std::vector<std::string> later;
        for (const auto& k : changed)
            if (base::needs_restart(k))
                later.push_back(k);
        // What cannot change live keeps its running value, so status and
        // the next reload compare against what is really in effect.
        next->state_dir = cfg->state_dir;
        next->log_syslog = cfg->log_syslog;
        next->listen_policy = cfg->listen_policy;
        next->listen_socketmap = cfg->listen_socketmap;
        next->listen_control = cfg->listen_control;
        next->listen_metrics = cfg->listen_metrics;
        next->policy.cache_max_entries = cfg->policy.cache_max_entries;
        next->store = cfg->store;  // the fleet link is made at start
        for (const auto& k : later) {
            if (auto it = values.find(k); it != values.end())
                fresh.values.insert_or_assign(k, it->second);
            else
                fresh.values.erase(k);
        }

        log.set_threshold(next->log_level);
        eng.reconfigure(next->policy);
        policy.idle_timeout = next->policy_idle_timeout;
        policy.failure_action = next->policy.deadline_action;
        socketmap.idle_timeout = next->policy_idle_timeout;
        policy_conns.max = socketmap_conns.max = next->policy_max_connections;
        health.reconfigure(next->health);
        follow(next->feedback);
        prober.set_timeouts(next->probe_connect_timeout, next->probe_banner_timeout);
        router.reconfigure(effective_routing(*next));
        const bool new_resolver = next_resolver != nullptr;
        if (new_resolver) {
            resolver.replace(std::move(next_resolver));
            dns_transport = transport_of();
        }
        cfg = std::move(next);
        values = std::move(fresh.values);
        ++reloads.applied;
        log.info("event=reload config=" + config_name(fresh) +
                 " changed=" + proto::log_value(changed.empty() ? "none" : join(changed)) +
                 " resolver=" + (new_resolver ? "replaced" : "kept"));
        for (const auto& w : base::config_warnings(*cfg))
            log.warning("event=config-warning warning=" + proto::log_value(w));
        if (!later.empty())
            log.warning("event=reload-needs-restart keys=" + join(later) + " note=kept-running-values");
        daemon::notify("READY=1\nSTATUS=" + daemon::status_line(count));
    };

    // SIGTERM/SIGINT: drain. Stop accepting (under socket activation new
    // connections wait in the kernel for the next start), close connections
    // that wait for a request, let those with a request in flight answer it,
    // and stop when none is left or daemon.drain-timeout has passed. A
    // second signal stops at once.
    bool draining = false;
    asio::steady_timer drain_timer(io);
    auto in_flight = [&] { return policy_conns.active + socketmap_conns.active; };
    std::function<void(std::chrono::steady_clock::time_point)> drain_wait =
        [&](std::chrono::steady_clock::time_point until) {
            if (in_flight() == 0 || std::chrono::steady_clock::now() >= until) {
                log.info("event=stopped unanswered-connections=" + std::to_string(in_flight()));
                io.stop();
                return;
            }
            drain_timer.expires_after(std::chrono::milliseconds(10));
            drain_timer.async_wait([&, until](boost::system::error_code ec) {
                if (!ec)
                    drain_wait(until);
            });
        };
    auto drain = [&](int sig) {
        if (draining) {
            log.warning("event=stop-now signal=" + std::to_string(sig) +
                        " unanswered-connections=" + std::to_string(in_flight()));
            io.stop();
            return;
        }
        draining = true;
        daemon::notify("STOPPING=1");
        log.info("event=stop signal=" + std::to_string(sig) + " in-flight-connections=" +
                 std::to_string(in_flight()) + " drain-timeout-ms=" + std::to_string(cfg->drain_timeout.count()));
        for (auto& l : listeners)
            l->close();
        upkeep_timer.cancel();
        if (fleet_link)
            fleet_link->stop();
        policy.sessions.drain();
        socketmap.sessions.drain();
        drain_wait(std::chrono::steady_clock::now() + cfg->drain_timeout);
    };

    asio::signal_set stop_signals(io, SIGINT, SIGTERM);
    std::function<void()> wait_stop = [&] {
        stop_signals.async_wait([&](boost::system::error_code ec, int sig) {
            if (ec)
                return;
            drain(sig);
            wait_stop();
        });
    };
    wait_stop();
    asio::signal_set hup(io, SIGHUP);
    std::function<void()> wait_hup = [&] {
        hup.async_wait([&](boost::system::error_code ec, int) {
            if (ec)
                return;
            if (!draining)
                reload();
            wait_hup();
        });
    };
    wait_hup();

    // Watchdog pings come from the loop itself: a loop that is stuck stops
    // them, and systemd restarts the daemon. The same tick refreshes STATUS=
    // and lets go of resolvers a reload replaced once they are idle.
    const auto ping_every = daemon::watchdog_ping_interval();
    const bool watchdog = ping_every.count() > 0;
    const auto tick_every = watchdog ? std::min<std::chrono::microseconds>(ping_every, std::chrono::seconds(10))
                                     : std::chrono::microseconds(std::chrono::seconds(10));
    asio::steady_timer tick_timer(io);
    std::function<void()> tick = [&] {
        tick_timer.expires_after(tick_every);
        tick_timer.async_wait([&](boost::system::error_code ec) {
            if (ec)
                return;
            daemon::activity_sample(activity, count, unix_now());
            resolver.collect();
            daemon::notify(std::string(watchdog ? "WATCHDOG=1\n" : "") + "STATUS=" +
                           (draining ? std::string("draining") : daemon::status_line(count)));
            tick();
        });
    };
    tick();

    log.info("event=ready version=" MXWARDEN_VERSION " policy=" + proto::log_value(proto::to_string(cfg->listen_policy)) +
             " socketmap=" + proto::log_value(proto::to_string(cfg->listen_socketmap)) +
             " control=" + proto::log_value(proto::to_string(cfg->listen_control)) + " metrics=" +
             proto::log_value(cfg->listen_metrics ? proto::to_string(*cfg->listen_metrics) : "off") + " state_dir=" +
             proto::log_value(cfg->state_dir) + " config=" +
             proto::log_value(loaded.file.empty() ? "built-in-defaults" : loaded.file) +
             " watchdog=" + (watchdog ? "on" : "off"));
    for (const auto& w : base::config_warnings(*cfg))
        log.warning("event=config-warning warning=" + proto::log_value(w));
    log.flush();
    // READY=1 only now: the routes are restored and every listener accepts.
    daemon::notify("READY=1\nSTATUS=" + daemon::status_line(count));
    io.run();
    store_thread.join();  // every route change queued so far reaches the disk
    log.flush();
    return 0;
}
