// engine/router.hpp: answers the socketmap lookups that route mail (seed
// 004): the maps of maps.hpp over the destinations of destinations.hpp. It
// never blocks the MTA: an answer comes from what is already known; a
// destination seen for the first time starts DNS resolution and banner
// probing in the background, and the lookup waits at most a small budget
// before answering with the best it has (unprobed candidates in preference
// order, else NOTFOUND: Postfix's own routing). Never TEMP for "not decided
// yet" (Postfix would answer 451 4.3.0 to every recipient).
#pragma once
#include "dns/resolver.hpp"
#include "engine/destinations.hpp"
#include "engine/health.hpp"
#include "engine/maps.hpp"
#include "engine/route_choice.hpp"

#include <array>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace mxw::engine {

class router {
public:
    using time_point = destination_table::time_point;
    using clock_fn = destination_table::clock_fn;
    using severity = destination_table::severity;
    using log_fn = destination_table::log_fn;
    using saved_route = engine::saved_route;
    using save_fn = destination_table::save_fn;

    router(routing_config cfg, dns::resolver& r, prober& p, health_table& h, clock_fn now, asio::any_io_executor ex,
           std::uint64_t seed, log_fn log);

    /// A socketmap lookup: `map` names an entry of maps.cpp ("transport",
    /// "mailertable", "relay", "tls"), `key` as the MTA sent it; an unknown
    /// map is NOTFOUND. Both must outlive the awaitable.
    asio::awaitable<map_answer> lookup(const std::string& map, const std::string& key);

    /// The route for mail to `domain` (a destination_of() result; "" is no
    /// route): in smart host mode the smart host's, within the answer
    /// budget. `domain` must outlive the awaitable.
    asio::awaitable<route_choice> route(const std::string& domain);

    /// For `mxwarden route DOMAIN`: resolves (waiting up to the resolve
    /// deadline, not the answer budget) and explains the decision.
    asio::awaitable<std::string> explain(const std::string& domain, bool json);

    /// The destination domain of a transport key, or "" when the key is out
    /// of scope (`*`, Sendmail's `.parent` and `.` keys, address literals,
    /// routing.exclude). Pure.
    [[nodiscard]] std::string destination_of(std::string_view key) const;

    [[nodiscard]] const destination_table& table() const noexcept { return table_; }
    [[nodiscard]] std::size_t destinations() const noexcept { return table_.size(); }
    void on_route_changed(save_fn f) { table_.on_route_changed(std::move(f)); }
    /// See destination_table::restore.
    void restore(const std::vector<saved_route>& routes) { table_.restore(routes); }
    [[nodiscard]] std::size_t probes_running() const noexcept { return table_.probes_running(); }
    /// Probes finished, by outcome (probe_outcome order), for the metrics.
    [[nodiscard]] const std::array<std::uint64_t, probe_outcome_count>& probe_outcomes() const noexcept
    {
        return table_.probe_outcomes();
    }

    /// A reload: new settings from the next lookup on. Destinations, routes
    /// and host health are kept (a changed deny list or mode applies to
    /// answers, which are chosen per lookup).
    void reconfigure(routing_config cfg) { table_.reconfigure(std::move(cfg)); }
    [[nodiscard]] const routing_config& config() const noexcept { return table_.config(); }

private:
    destination_table table_;
};

}  // namespace mxw::engine
