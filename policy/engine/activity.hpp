// engine/activity.hpp: the last 24 hours of what mxwardend did, for
// `mxwarden health` and mxwarden-web: a fixed ring of 288 five-minute
// buckets of policy decisions, DNS lookup failures and the dead hosts at
// each bucket's end. Memory is fixed (288 buckets whatever the traffic).
// It starts empty when the daemon starts and is not persisted: counting
// from zero again after a restart is honest, and the store is no place for
// per-minute counters. Pure: the caller samples the daemon's own running
// totals with the time, as Unix seconds; there is no clock inside.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace mxw::engine {

class activity_ring {
public:
    static constexpr std::size_t bucket_count = 288;
    static constexpr std::int64_t bucket_seconds = 300;

    struct bucket {
        std::int64_t start = 0;  ///< Unix seconds, a multiple of bucket_seconds
        std::uint64_t decisions = 0;
        std::uint64_t dns_failures = 0;
        std::uint64_t dead_hosts = 0;  ///< the last sample's gauge in the bucket
        bool operator==(const bucket&) const = default;
    };

    /// Running totals since the daemon started, and the dead hosts now, at
    /// `now`: the growth since the previous sample goes to now's bucket,
    /// so sampling often (the daemon's 10 s tick) keeps the edges sharp. A
    /// total that went down (a counter that was replaced) counts as no
    /// growth and becomes the new base. Time that goes backwards stays in
    /// the newest bucket; a jump over 24 hours leaves earlier buckets out.
    void sample(std::int64_t now, std::uint64_t decisions_total, std::uint64_t dns_failures_total,
                std::uint64_t dead_hosts);

    /// The buckets of the 24 hours up to `now`, oldest first, from the
    /// first one sampled (none before the daemon started) to now's; a
    /// bucket no sample fell into (the loop was stuck, or time jumped) is
    /// there with zeros.
    [[nodiscard]] std::vector<bucket> last_day(std::int64_t now) const;

private:
    static std::int64_t start_of(std::int64_t t) noexcept;
    static std::size_t index_of(std::int64_t start) noexcept;
    std::array<bucket, bucket_count> ring_{};
    bool started_ = false;
    std::int64_t first_ = 0;   ///< start of the first bucket sampled
    std::int64_t newest_ = 0;  ///< start of the newest bucket sampled
    std::uint64_t decisions_base_ = 0;
    std::uint64_t dns_failures_base_ = 0;
};

}  // namespace mxw::engine
