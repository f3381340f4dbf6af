// dns/lookup_queue.hpp: the resolver the daemon uses, minus the DNS library.
// It coalesces identical lookups in flight (one upstream query, many
// waiters), caps concurrent upstream queries (the rest wait in FIFO order),
// and ends every waiter at its own deadline. The library behind it is a
// `backend` (libunbound in the daemon, a fake in the unit tests).
#pragma once
#include "dns/resolver.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

namespace mxw::dns {

class backend {
public:
    using done_fn = std::function<void(answer)>;
    virtual ~backend() = default;
    /// Starts a query. `done` runs exactly once on the loop thread (possibly
    /// before start() returns), unless cancel(id) comes first. Returns the id,
    /// or -1 if the query could not even be started.
    virtual int start(const std::string& name, rrtype type, done_fn done) = 0;
    virtual void cancel(int id) = 0;
};

struct lookup_stats {
    std::uint64_t started = 0;    ///< upstream queries sent to the backend
    std::uint64_t coalesced = 0;  ///< lookups that joined a query in flight
    std::uint64_t timeouts = 0;   ///< waiters that reached their deadline
    std::size_t running = 0;      ///< upstream queries now in flight
    std::size_t queued = 0;       ///< queries waiting for a free slot
};

class lookup_queue final : public resolver {
public:
    /// `timeout`: the longest any one lookup may take (dns.timeout);
    /// `max_running`: concurrent upstream queries (dns.max-inflight).
    lookup_queue(asio::any_io_executor ex, backend& b, std::chrono::milliseconds timeout, std::size_t max_running);

    asio::awaitable<answer> lookup(const std::string& name, rrtype type, clock::time_point deadline) override;
    [[nodiscard]] lookup_stats stats() const noexcept;

private:
    struct waiter {
        asio::steady_timer* timer;
        answer* out;
        bool done = false;
    };
    struct query {
        std::string name;
        rrtype type = rrtype::a;
        std::uint64_t generation = 0;
        int id = -1;
        bool running = false;
        std::vector<waiter*> waiters;
    };

    void pump();
    void complete(const std::string& key, std::uint64_t generation, answer a);
    void abandon(const std::string& key, waiter* w);

    asio::any_io_executor ex_;
    backend& backend_;
    std::chrono::milliseconds timeout_;
    std::size_t max_running_;
    std::unordered_map<std::string, std::unique_ptr<query>> queries_;
    std::deque<std::string> pending_;  // keys waiting for a slot; stale keys are skipped
    std::size_t running_ = 0;
    std::uint64_t next_generation_ = 1;
    lookup_stats stats_;
};

}  // namespace mxw::dns
