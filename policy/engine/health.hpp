// engine/health.hpp: what mxwarden remembers about each MX address (seed
// 004, issue 11). Pure bookkeeping over an injected time: who is healthy,
// who is dead and why, when to probe again (expiry for good hosts, doubling
// backoff for dead ones), and one probe per address at a time. Two sources
// feed the one input, observe(): the banner prober (net/banner_probe) and
// Postfix's own delivery attempts (net/log_follower + proto/postfix_log).
// A probe only sees the greeting; a host that greets and then fails real
// deliveries is found only by the second source, and a good probe must not
// undo what deliveries showed. In a fleet (issue 12) other nodes' findings
// come in through the same input, marked with the node that made them:
// they count like local ones of the same source, newest first.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mxw::engine {

enum class probe_outcome {
    ok,               ///< complete 220 greeting
    refused,          ///< connection refused
    connect_timeout,  ///< no TCP connection within probe.connect-timeout
    banner_timeout,   ///< connected, but no complete greeting within probe.banner-timeout (seed 004)
    greeting_4xx,     ///< 421 and friends: busy or shutting down
    greeting_5xx,     ///< 554: refuses everyone
    reset,            ///< connection reset or closed before the greeting
    garbage,          ///< not an SMTP greeting
};
inline constexpr std::size_t probe_outcome_count = 8;
std::string_view to_string(probe_outcome o) noexcept;

struct probe_result {
    probe_outcome outcome = probe_outcome::garbage;
    std::string detail;  ///< greeting text or error, unsanitized (sanitize when showing)
    std::chrono::milliseconds elapsed{0};
};

enum class health_state { unknown, healthy, dead };
std::string_view to_string(health_state s) noexcept;

/// Where an observation came from.
enum class health_source { probe, delivery };
std::string_view to_string(health_source s) noexcept;

/// One thing learned about one address.
struct observation {
    health_source source = health_source::probe;
    bool ok = false;      ///< the host did its job (a complete greeting; a message sent)
    std::string outcome;  ///< token: to_string(probe_outcome) or to_string(proto::delivery_outcome)
    /// Where the conversation stood: "connect" and "greeting" say the host
    /// is unreachable or will not talk (dead at once, whatever the source);
    /// later stages ("ehlo", "starttls", "tls", "mail", "rcpt", "data",
    /// "end-of-data") mean it greets but fails deliveries. "" for successes.
    std::string stage;
    std::string detail;  ///< unsanitized (sanitize when showing)
    /// The fleet node that made it (store.node); empty: this node.
    std::string node;
};

/// The observation a probe result is.
observation to_observation(const probe_result& r);

struct health_config {
    std::chrono::seconds healthy_ttl{600};    ///< re-probe a good host after this
    std::chrono::seconds dead_backoff{60};    ///< first retry of a dead host
    std::chrono::seconds max_backoff{3600};   ///< backoff ceiling
    std::size_t max_entries = 100000;
    /// feedback.failures: consecutive delivery failures after the greeting
    /// that make a greeting host dead. 1: a host that fails real deliveries
    /// costs at most one message's wait before mail goes elsewhere.
    std::uint32_t delivery_failures = 1;
};

class health_table {
public:
    using time_point = std::chrono::steady_clock::time_point;

    struct recorded {
        observation what;
        time_point at{};
    };
    /// How many observations an entry keeps for `mxwarden route`.
    static constexpr std::size_t recent_kept = 4;

    struct entry {
        health_state state = health_state::unknown;
        probe_result last;              ///< the last probe's result
        time_point probed_at{};         ///< when it finished; epoch: never probed
        time_point next_probe{};        ///< not before this
        /// When the newest observation applied was made: another node's
        /// older news must not undo it.
        time_point observed_at{};
        std::uint32_t failures = 0;     ///< consecutive, either source: drives the backoff
        std::uint32_t delivery_failures = 0;  ///< consecutive delivery failures after the greeting
        /// Dead because deliveries failed after the greeting: a good probe
        /// cannot clear this before the backoff ends, and then only puts
        /// the host on probation.
        bool delivery_dead = false;
        /// Let back in by a probe after delivery_dead: the next delivery
        /// failure, at any stage, makes it dead again at once.
        bool probation = false;
        bool probing = false;
        std::vector<recorded> recent;   ///< oldest first, at most recent_kept
    };

    explicit health_table(health_config cfg) : cfg_(cfg) {}
    /// A reload: known states are kept; new timings apply from the next probe.
    void reconfigure(health_config cfg) noexcept { cfg_ = cfg; }

    /// The state of `address`; unknown if never probed.
    [[nodiscard]] health_state state(const std::string& address) const;
    [[nodiscard]] const entry* find(const std::string& address) const;

    /// True (and marks the address as being probed) when a probe is due and
    /// none is running: the caller must then call record() or abandon().
    bool start_probe(const std::string& address, time_point now);
    /// A probe finished: observe() with its observation, and the entry
    /// remembers the result itself as `last`.
    void record(const std::string& address, const probe_result& r, time_point now);
    void abandon(const std::string& address);
    /// The one input: what a probe or a delivery showed about `address`.
    /// `now` is when it was made: the present for this node's own; for
    /// another node's, the time it was made there, on this clock, so that
    /// the backoff runs from then. Another node's observation older than
    /// the entry's newest is ignored. A delivery to an address the table
    /// is full without is dropped.
    void observe(const std::string& address, const observation& o, time_point now);
    /// Called with each of this node's own observations (node empty) as it
    /// comes in, whatever it changes: what the fleet gets to see. Another
    /// node's never goes out again, so nothing echoes.
    void on_local_observation(std::function<void(const std::string&, const observation&)> f)
    {
        on_local_ = std::move(f);
    }

    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
    [[nodiscard]] const std::unordered_map<std::string, entry>& entries() const noexcept { return entries_; }

private:
    /// The entry for `address`, made room for if the table is full; nullptr
    /// when no room can be made.
    entry* slot(const std::string& address, time_point now);
    void mark_dead(entry& e, time_point now);

    health_config cfg_;
    std::unordered_map<std::string, entry> entries_;
    std::function<void(const std::string&, const observation&)> on_local_;
};

/// An entry's recent observations, newest first, one per line, for
/// `mxwarden route`: "delivery lost@ehlo 180s ago: <detail>", or "probe
/// banner-timeout@greeting on mta-1 180s ago: ..." for another node's.
/// Each line is prefixed with `indent`; node names and details are
/// sanitized, details cut to 120 bytes.
std::string format_recent(const health_table::entry& e, health_table::time_point now, std::string_view indent);

}  // namespace mxw::engine
