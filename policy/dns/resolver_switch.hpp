// dns/resolver_switch.hpp: the resolver the engine and the router hold, so a
// reload can put a new libunbound context (other forwarders, transport,
// DNSSEC) behind them without touching either. Each lookup keeps the
// resolver it started on alive until it ends: lookups in flight finish on
// the old one. A retired resolver is destroyed by collect(), on a later loop
// turn, once nothing uses it any more (never from inside its own callbacks).
#pragma once
#include "dns/unbound_resolver.hpp"

#include <algorithm>
#include <array>
#include <memory>
#include <vector>

namespace mxw::dns {

class resolver_switch final : public resolver {
public:
    explicit resolver_switch(std::shared_ptr<unbound_resolver> r) : current_(std::move(r)) {}

    asio::awaitable<answer> lookup(const std::string& name, rrtype type, clock::time_point deadline) override
    {
        std::shared_ptr<unbound_resolver> r = current_;
        co_return co_await r->lookup(name, type, deadline);
    }

    /// From the next lookup on, `r` answers.
    void replace(std::shared_ptr<unbound_resolver> r)
    {
        retired_.push_back(std::move(current_));
        current_ = std::move(r);
    }

    /// Destroys retired resolvers no lookup holds any more, keeping their
    /// counters so the metrics' totals never go backwards. Call it from the
    /// loop, outside any DNS callback. Returns how many are still in use.
    std::size_t collect()
    {
        std::erase_if(retired_, [this](const std::shared_ptr<unbound_resolver>& r) {
            if (r.use_count() > 1)
                return false;
            add(*r, gone_);
            return true;
        });
        return retired_.size();
    }

    [[nodiscard]] const unbound_resolver& current() const noexcept { return *current_; }

    /// Lookups answered by status, by every resolver this daemon has had.
    [[nodiscard]] std::array<std::uint64_t, status_count> by_status() const noexcept { return all().by_status; }
    [[nodiscard]] proto::histogram latency() const noexcept { return all().latency; }
    /// Totals over every resolver; running and queued count the live ones.
    [[nodiscard]] lookup_stats stats() const noexcept { return all().stats; }

private:
    struct totals {
        std::array<std::uint64_t, status_count> by_status{};
        proto::histogram latency{};
        lookup_stats stats{};
    };

    static void add(const unbound_resolver& r, totals& t) noexcept
    {
        const auto& by = r.by_status();
        for (std::size_t i = 0; i < by.size(); ++i)
            t.by_status[i] += by[i];
        const auto& h = r.latency();
        for (std::size_t i = 0; i < h.counts.size(); ++i)
            t.latency.counts[i] += h.counts[i];
        t.latency.sum += h.sum;
        t.latency.count += h.count;
        auto s = r.stats();
        t.stats.started += s.started;
        t.stats.coalesced += s.coalesced;
        t.stats.timeouts += s.timeouts;
        t.stats.running += s.running;
        t.stats.queued += s.queued;
    }

    [[nodiscard]] totals all() const noexcept
    {
        totals t = gone_;
        for (const auto& r : retired_)
            add(*r, t);
        add(*current_, t);
        return t;
    }

    std::shared_ptr<unbound_resolver> current_;
    std::vector<std::shared_ptr<unbound_resolver>> retired_;  ///< replaced, maybe still answering
    totals gone_;                                              ///< counters of destroyed resolvers
};

}  // namespace mxw::dns
