// engine/health.hpp: what mxwarden remembers about each MX address it has
// probed (seed 004). Pure bookkeeping over an injected time: who is healthy,
// who is dead and why, when to probe again (expiry for good hosts, doubling
// backoff for dead ones), and one probe per address at a time. The prober
// that fills it lives in net/banner_probe.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
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

struct health_config {
    std::chrono::seconds healthy_ttl{600};    ///< re-probe a good host after this
    std::chrono::seconds dead_backoff{60};    ///< first retry of a dead host
    std::chrono::seconds max_backoff{3600};   ///< backoff ceiling
    std::size_t max_entries = 100000;
};

class health_table {
public:
    using time_point = std::chrono::steady_clock::time_point;

    struct entry {
        health_state state = health_state::unknown;
        probe_result last;
        time_point probed_at{};
        time_point next_probe{};        ///< not before this
        std::uint32_t failures = 0;     ///< consecutive
        bool probing = false;
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
    void record(const std::string& address, const probe_result& r, time_point now);
    void abandon(const std::string& address);

    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
    [[nodiscard]] const std::unordered_map<std::string, entry>& entries() const noexcept { return entries_; }

private:
    health_config cfg_;
    std::unordered_map<std::string, entry> entries_;
};

}  // namespace mxw::engine
