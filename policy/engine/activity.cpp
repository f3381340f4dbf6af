#include "engine/activity.hpp"

namespace mxw::engine {

std::int64_t activity_ring::start_of(std::int64_t t) noexcept
{
    // Floor, also for times before 1970 (a clock set badly wrong).
    auto r = t % bucket_seconds;
    return t - (r < 0 ? r + bucket_seconds : r);
}

std::size_t activity_ring::index_of(std::int64_t start) noexcept
{
    constexpr auto n = static_cast<std::int64_t>(bucket_count);
    return static_cast<std::size_t>((start / bucket_seconds % n + n) % n);
}

void activity_ring::sample(std::int64_t now, std::uint64_t decisions_total, std::uint64_t dns_failures_total,
                           std::uint64_t dead_hosts)
{
    auto start = start_of(now);
    if (!started_) {
        started_ = true;
        first_ = start;
        newest_ = start;
    } else if (start < newest_) {
        start = newest_;
    }
    newest_ = start;
    auto& b = ring_[index_of(start)];
    if (b.start != start)
        b = bucket{start, 0, 0, 0};
    auto grow = [](std::uint64_t total, std::uint64_t& base) {
        std::uint64_t d = total >= base ? total - base : 0;
        base = total;
        return d;
    };
    b.decisions += grow(decisions_total, decisions_base_);
    b.dns_failures += grow(dns_failures_total, dns_failures_base_);
    b.dead_hosts = dead_hosts;
}

std::vector<activity_ring::bucket> activity_ring::last_day(std::int64_t now) const
{
    std::vector<bucket> out;
    if (!started_)
        return out;
    auto last = start_of(now) < newest_ ? newest_ : start_of(now);
    auto from = last - static_cast<std::int64_t>(bucket_count - 1) * bucket_seconds;
    if (from < first_)
        from = first_;
    for (auto s = from; s <= last; s += bucket_seconds) {
        const auto& b = ring_[index_of(s)];
        out.push_back(b.start == s ? b : bucket{s, 0, 0, 0});
    }
    return out;
}

}  // namespace mxw::engine
