// daemon/fleet_link.hpp: this node's link to the fleet's shared routing
// state (issue 12, store.url). The loop hands it what the node learns
// (its own health observations, route changes) and gets back what the
// other nodes learned; the database work runs on the store thread, one
// round trip at a time: publish the queued batch, save the queued routes,
// fetch what is new. The loop never waits on it. When the database is
// down, the queues keep the newest items up to a bound (the oldest go, and
// are counted) and the link reconnects with a doubling backoff.
#pragma once
#include "base/logging.hpp"
#include "engine/health.hpp"
#include "net/asio.hpp"
#include "store/fleet_state.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mxw::daemon {

struct fleet_settings {
    std::chrono::milliseconds flush_interval{200};  ///< the longest an observation waits to go out
    std::chrono::milliseconds poll_interval{500};   ///< how often other nodes' news is fetched
    std::size_t max_batch = 500;      ///< items per round trip, and a round trip at once when reached
    std::size_t max_queued = 20000;   ///< per queue while the database is away; older items go
    std::size_t max_fetch = 1000;     ///< observations fetched per round trip
    std::chrono::milliseconds retry_min{1000};   ///< first reconnect after a failure
    std::chrono::milliseconds retry_max{60000};  ///< reconnect backoff ceiling
};

/// For the metrics; loop thread.
struct fleet_counts {
    bool up = false;             ///< the last round trip worked
    std::uint64_t sent = 0;      ///< observations published
    std::uint64_t received = 0;  ///< other nodes' observations applied
    std::uint64_t dropped = 0;   ///< observations and routes dropped while the database was away
};

/// Between the health table's observations and the shared store's rows.
/// Peer-written text is cut to size here: another node (or the database)
/// must not make this one keep megabytes per address.
store::shared_observation to_shared(const std::string& address, const engine::observation& o, std::int64_t at_ms);
/// Another node's observation, and when it was made on this node's steady
/// clock (`now` is `wall_now_ms` on it; never later than now, since two
/// machines' clocks differ a little). nullopt for a source this node does
/// not know (a newer mxwarden's).
struct received_observation {
    std::string address;
    engine::observation what;
    engine::health_table::time_point at;
};
std::optional<received_observation> from_shared(const store::shared_observation& s, std::int64_t wall_now_ms,
                                                engine::health_table::time_point now);

class fleet_link {
public:
    /// Opens the shared state; called on the store thread, throws store_error.
    using opener = std::function<std::unique_ptr<store::fleet_state>()>;
    /// Other nodes' observations, oldest first; loop thread.
    using receiver = std::function<void(std::vector<store::shared_observation>)>;
    using event_sink = std::function<void(base::log_level, const std::string&)>;

    /// `opened`: the handle main already used to load the fleet's routes,
    /// or nullptr (the link opens one itself). `start`: where fetching
    /// begins. The link must outlive neither `loop` nor `store`, and the
    /// store executor runs one job at a time.
    fleet_link(asio::any_io_executor loop, asio::any_io_executor store, opener open,
               std::unique_ptr<store::fleet_state> opened, std::string node, store::fleet_cursor start,
               fleet_settings s, receiver on_received, event_sink log);

    void start();
    /// No new round trips; one running finishes on the store thread.
    void stop();

    /// Queue this node's own observation or route change; never blocks.
    void publish(store::shared_observation o);
    void save_route(store::saved_route r);

    [[nodiscard]] const fleet_counts& counts() const noexcept { return counts_; }

private:
    struct round_result;
    void tick();
    void launch();
    void finish(round_result r);
    template <typename T>
    void bound(std::deque<T>& q);

    asio::any_io_executor loop_;
    asio::any_io_executor store_;
    opener open_;
    /// Only the round trip in flight holds it (on the store thread); null
    /// here while one runs or after a failure.
    std::unique_ptr<store::fleet_state> handle_;
    std::string node_;
    store::fleet_cursor cursor_;
    fleet_settings cfg_;
    receiver on_received_;
    event_sink log_;
    asio::steady_timer timer_;
    std::deque<store::shared_observation> out_;
    std::deque<store::saved_route> routes_;
    fleet_counts counts_;
    bool busy_ = false;         ///< a round trip is on the store thread
    bool stopped_ = true;
    bool down_logged_ = false;  ///< store-down said, store-up not yet
    std::chrono::steady_clock::time_point next_poll_{};
    std::chrono::steady_clock::time_point retry_at_{};
    std::chrono::milliseconds retry_{0};
};

}  // namespace mxw::daemon
