// engine/destinations.hpp: the destinations the router tracks, each with
// its DNS route (fresh, or last-known-good through an outage), when it was
// resolved and failing, and the lookups waiting on it. It schedules the
// resolutions and the banner probes (results go to the health table) and
// indexes which destinations and MX names every address belongs to. It
// decides nothing itself: choose() hands a snapshot to choose_route.
#pragma once
#include "dns/resolver.hpp"
#include "engine/health.hpp"
#include "engine/mx_select.hpp"
#include "engine/route_choice.hpp"

#include <array>
#include <chrono>
#include <functional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace mxw::engine {

/// Opens a connection and waits for the greeting (net/banner_probe).
class prober {
public:
    virtual ~prober() = default;
    /// `address` must outlive the awaitable (co_await it at once).
    virtual asio::awaitable<probe_result> probe(const std::string& address, std::uint16_t port) = 0;
};

/// A destination's route as last resolved successfully, for persisting.
struct saved_route {
    std::string destination;
    route_dns dns;
};

struct destination {
    using time_point = dns::clock::time_point;
    route_dns dns;
    bool resolved = false;     ///< dns holds a usable answer (possibly last-known-good)
    bool resolving = false;
    bool dns_failing = false;  ///< the latest resolution failed; dns is last-known-good
    std::string failure;       ///< the failed lookups while dns_failing, for `mxwarden route`
    /// While dns_failing, what failed: a DNS status (servfail, timeout,
    /// bogus) or "no-address", for `mxwarden health`.
    std::string failure_status;
    time_point expires{};
    time_point dns_failing_since{};  ///< zero while DNS answers
    time_point dead_since{};         ///< zero unless every address is dead
    std::size_t probes = 0;
    std::vector<asio::steady_timer*> waiters;  ///< woken by resolutions and probe results
};

class destination_table {
public:
    using time_point = dns::clock::time_point;
    using clock_fn = std::function<time_point()>;
    /// Routing problems an admin must see (a DNS failure that blocks a
    /// destination, a dead host) are warnings; the rest is info.
    enum class severity { info, warning, error };
    using log_fn = std::function<void(severity, const std::string&)>;
    /// Called after every successful resolution that changed a route.
    using save_fn = std::function<void(const saved_route&)>;
    /// Destination domain -> its MX names that have the address.
    using owner_map = std::unordered_map<std::string, std::vector<std::string>>;

    destination_table(routing_config cfg, dns::resolver& r, prober& p, health_table& h, clock_fn now,
                      asio::any_io_executor ex, std::uint64_t seed, log_fn log);

    [[nodiscard]] const routing_config& config() const noexcept { return cfg_; }
    /// A reload: destinations, routes and host health are kept.
    void reconfigure(routing_config cfg) { cfg_ = std::move(cfg); }

    /// Tracks `domain` (resolving it when its route is missing or expired)
    /// and waits, at most `budget` of wall time, for a route and then for a
    /// first healthy probe result. False when there is no route yet or the
    /// table is full. `domain` must outlive the awaitable.
    asio::awaitable<bool> async_prepare(const std::string& domain, std::chrono::milliseconds budget);
    /// Waits for the next resolution or probe result of `domain`, at most
    /// `budget`; true when it has a route then.
    asio::awaitable<bool> async_wait(const std::string& domain, std::chrono::milliseconds budget);
    /// The route for a tracked `domain` now (see choose_route); starts the
    /// probes that are due.
    route_choice choose(const std::string& domain);

    [[nodiscard]] const destination* find(const std::string& domain) const;
    [[nodiscard]] std::size_t size() const noexcept { return dests_.size(); }
    /// Every tracked destination (bounded by routing's table limit), for
    /// the failing ones in `mxwarden health`.
    [[nodiscard]] const std::unordered_map<std::string, destination>& all() const noexcept { return dests_; }
    /// Who publishes `address` as an MX address; null when no one does.
    [[nodiscard]] const owner_map* owners_of(const std::string& address) const;
    /// The addresses of the MX host `name` in every destination that has it
    /// (empty when none has).
    [[nodiscard]] std::vector<std::string> addresses_of(const std::string& name) const;
    [[nodiscard]] const health_table& health() const noexcept { return health_; }
    [[nodiscard]] time_point now() const { return now_(); }

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

private:
    void start_resolve(const std::string& domain);
    asio::awaitable<void> resolve_task(std::string domain);
    asio::awaitable<void> probe_task(std::string domain, std::string address);
    void start_probes(const std::string& domain, destination& d);
    /// Probes are running and no address is healthy yet, some never probed.
    [[nodiscard]] bool awaiting_first_probe(const destination& d) const;
    /// Replaces a destination's route, keeping the owner and host indexes.
    void set_dns(const std::string& domain, destination& d, route_dns dns);
    void unindex(const std::string& domain, const route_dns& dns);

    routing_config cfg_;
    dns::resolver& resolver_;
    prober& prober_;
    health_table& health_;
    clock_fn now_;
    asio::any_io_executor ex_;
    std::mt19937_64 rng_;
    log_fn log_;
    std::unordered_map<std::string, destination> dests_;
    // Derived from dests_ (so bounded by it), updated with every route:
    // address -> destination -> MX names, and MX name -> destination ->
    // addresses. Keyed by destination so that one address shared by many
    // destinations is updated in constant time.
    std::unordered_map<std::string, owner_map> owners_;
    std::unordered_map<std::string, owner_map> hosts_;
    std::size_t probes_running_ = 0;
    std::array<std::uint64_t, probe_outcome_count> probe_outcomes_{};
    save_fn save_;
};

}  // namespace mxw::engine
