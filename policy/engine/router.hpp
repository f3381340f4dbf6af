// engine/router.hpp: answers the socketmap `transport` lookups (seed 004).
// It never blocks the MTA: an answer comes from what is already known; a
// destination seen for the first time starts DNS resolution and banner
// probing in the background, and the lookup waits at most a small budget
// before answering with the best it has (unprobed candidates in preference
// order, else NOTFOUND: Postfix's own routing). Never TEMP for "not decided
// yet" (Postfix would answer 451 4.3.0 to every recipient).
#pragma once
#include "dns/resolver.hpp"
#include "engine/health.hpp"
#include "engine/mx_select.hpp"
#include "proto/cidr.hpp"

#include <array>
#include <chrono>
#include <functional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace mxw::engine {

struct routing_config {
    enum class mode { mx, smarthost, off } routing_mode = mode::mx;
    std::string smarthost;  ///< host name or address (smarthost mode)
    std::uint16_t smarthost_port = 25;
    enum class form { ip, hostname } nexthop_form = form::ip;
    enum class unroutable { bounce, quarantine, postfix };
    std::string transport = "mxw";
    std::string sendmail_mailer = "esmtp";
    std::string quarantine_transport = "mxq";
    std::size_t max_addresses = 5;  ///< Postfix's smtp_mx_address_limit
    mx_limits limits;
    std::vector<proto::cidr> deny;                 ///< never emitted or probed
    std::vector<std::string> exclude;              ///< "example.com" or ".example.com" (subdomains)
    std::chrono::seconds quarantine_after{7200};   ///< failing this long: mxq:<reason>
    std::chrono::milliseconds answer_budget{100};  ///< longest a lookup waits for DNS
    std::chrono::milliseconds resolve_deadline{10000};
    std::chrono::seconds min_route_ttl{60};
    std::chrono::seconds max_route_ttl{3600};
    std::chrono::seconds tempfail_retry{30};
    unroutable on_null_mx = unroutable::bounce;
    unroutable on_nxdomain = unroutable::bounce;
    std::size_t max_destinations = 100000;
    std::size_t max_probes = 32;                   ///< concurrent probes, all destinations
    std::size_t max_probes_per_destination = 2;
    std::uint16_t port = 25;
    /// The TLS security level the site uses for remote mail, answered for
    /// mxwarden's own next hops in the `tls` map (smtp_tls_policy_maps).
    std::string tls_level = "may";
};

struct map_answer {
    enum class status { ok, notfound, temp } st = status::notfound;
    std::string data;
};

/// What the router decided for one destination, before it is spelled in
/// one MTA's syntax.
struct route_choice {
    enum class kind { none, hops, bounce, quarantine } k = kind::none;
    std::vector<std::string> hops;  ///< addresses (or MX names for hostname form), in order
    bool hostnames = false;
    std::string status;  ///< bounce: enhanced status code, e.g. "5.1.10"
    std::string text;    ///< bounce: reason text; quarantine: reason token
};

/// Postfix transport_maps syntax: "mxw:[192.0.2.1]:25, [192.0.2.2]:25",
/// "error:5.1.10 text", "mxq:reason". Only these shapes are produced, and
/// every hop is a bracketed address or name with a port, so Postfix's smtp
/// never meets a malformed next hop.
map_answer format_postfix(const route_choice& c, const routing_config& cfg);

/// Postfix relayhost syntax, for sender_dependent_relayhost_maps:
/// "[192.0.2.1]:587, [192.0.2.2]:587"; anything but hops is NOTFOUND.
map_answer format_relayhost(const route_choice& c, const routing_config& cfg);

/// The hops of `c` as "[a]:port, [b]:port".
std::string hop_list(const route_choice& c, const routing_config& cfg);

/// The port mxwarden's next hops (and probes) use: the smart host's in
/// smart host mode, else the SMTP port.
inline std::uint16_t hop_port(const routing_config& cfg) noexcept
{
    return cfg.routing_mode == routing_config::mode::smarthost ? cfg.smarthost_port : cfg.port;
}

/// Sendmail mailertable syntax: "esmtp:[192.0.2.1]:[IPv6:2001:db8::1]"
/// (colon-separated hosts are tried in order, the port comes from the
/// mailer), "error:5.1.10:550 text", "mxq:reason".
map_answer format_sendmail(const route_choice& c, const routing_config& cfg);

/// Opens a connection and waits for the greeting (net/banner_probe).
class prober {
public:
    virtual ~prober() = default;
    /// `address` must outlive the awaitable (co_await it at once).
    virtual asio::awaitable<probe_result> probe(const std::string& address, std::uint16_t port) = 0;
};

class router {
public:
    using time_point = dns::clock::time_point;
    using clock_fn = std::function<time_point()>;
    /// Routing problems an admin must see (a DNS failure that blocks a
    /// destination, a dead host) are warnings; the rest is info.
    enum class severity { info, warning, error };
    using log_fn = std::function<void(severity, const std::string&)>;

    router(routing_config cfg, dns::resolver& r, prober& p, health_table& h, clock_fn now, asio::any_io_executor ex,
           std::uint64_t seed, log_fn log);

    /// A socketmap lookup: `map` is "transport" (Postfix transport_maps),
    /// "mailertable" (Sendmail), "relay" (sender_dependent_relayhost_maps,
    /// smart host mode only) or "tls" (smtp_tls_policy_maps, keyed by a
    /// next hop exactly as mxwarden emitted it), `key` as the MTA sent it.
    /// Both must outlive the awaitable.
    asio::awaitable<map_answer> lookup(const std::string& map, const std::string& key);

    /// For `mxwarden route DOMAIN`: resolves (waiting up to the resolve
    /// deadline, not the answer budget) and explains the decision.
    asio::awaitable<std::string> explain(const std::string& domain, bool json);

    /// The destination domain of a transport key, or "" when the key is out
    /// of scope (`*`, Sendmail's `.parent` and `.` keys, address literals,
    /// routing.exclude). Pure; public for tests.
    [[nodiscard]] std::string destination_of(std::string_view key) const;

    [[nodiscard]] std::size_t destinations() const noexcept { return dests_.size(); }

    /// A destination's route as last resolved successfully, for persisting.
    struct saved_route {
        std::string destination;
        route_dns dns;
    };
    /// Called after every successful resolution that changed a route.
    using save_fn = std::function<void(const saved_route&)>;
    void on_route_changed(save_fn f) { save_ = std::move(f); }
    /// Loads persisted last-known-good routes before serving: each is used
    /// until a fresh resolution succeeds, and through a DNS outage.
    void restore(const std::vector<saved_route>& routes);
    [[nodiscard]] std::size_t probes_running() const noexcept { return probes_running_; }
    /// Probes finished, by outcome (probe_outcome order), for the metrics.
    [[nodiscard]] const std::array<std::uint64_t, probe_outcome_count>& probe_outcomes() const noexcept
    {
        return probe_outcomes_;
    }

    /// The destination the smart host is tracked under: "[relay.example.net]"
    /// (brackets, so that no recipient domain can collide with it).
    [[nodiscard]] std::string smarthost_destination() const { return "[" + cfg_.smarthost + "]"; }

    /// A reload: new settings from the next lookup on. Destinations, routes
    /// and host health are kept (a changed deny list or mode applies to
    /// answers, which are chosen per lookup).
    void reconfigure(routing_config cfg) { cfg_ = std::move(cfg); }
    [[nodiscard]] const routing_config& config() const noexcept { return cfg_; }

private:
    struct destination {
        route_dns dns;
        bool resolved = false;   ///< dns holds a usable answer (possibly last-known-good)
        bool resolving = false;
        bool dns_failing = false;  ///< the latest resolution failed; dns is last-known-good
        std::string failure;       ///< the failed lookups while dns_failing, for `mxwarden route`
        time_point expires{};
        time_point dns_failing_since{};  ///< zero while DNS answers
        time_point dead_since{};         ///< zero unless every address is dead
        std::size_t probes = 0;
        std::vector<asio::steady_timer*> waiters;  ///< woken by resolutions and probe results
    };

    void start_resolve(const std::string& domain);
    asio::awaitable<void> resolve_task(std::string domain);
    asio::awaitable<void> probe_task(std::string domain, std::string address);
    route_choice choose(const std::string& domain, destination& d);
    void start_probes(const std::string& domain, destination& d);
    /// Probes are running and no address is healthy yet, some never probed.
    [[nodiscard]] bool awaiting_first_probe(const destination& d) const;
    asio::awaitable<bool> wait_resolved(const std::string& domain, std::chrono::milliseconds budget);
    [[nodiscard]] bool denied(const std::string& address) const;
    [[nodiscard]] map_answer tls_policy(std::string_view nexthop) const;
    void remember_names(const route_dns& dns);

    routing_config cfg_;
    dns::resolver& resolver_;
    prober& prober_;
    health_table& health_;
    clock_fn now_;
    asio::any_io_executor ex_;
    std::mt19937_64 rng_;
    log_fn log_;
    std::unordered_map<std::string, destination> dests_;
    // MX names by address, for the tls map: a bracketed IP hides the name a
    // certificate must match. Bounded; rebuilt from dests_ when it grows.
    std::unordered_map<std::string, std::vector<std::string>> names_by_address_;
    std::size_t probes_running_ = 0;
    std::array<std::uint64_t, probe_outcome_count> probe_outcomes_{};
    save_fn save_;
};

}  // namespace mxw::engine
