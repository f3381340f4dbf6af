#include "dns/lookup_queue.hpp"

#include "proto/limits.hpp"
#include "proto/sanitize.hpp"

#include <algorithm>

namespace mxw::dns {
namespace {

std::string normalize(std::string_view name)
{
    while (!name.empty() && name.back() == '.')
        name.remove_suffix(1);
    return proto::to_lower(name);
}

answer failed(const std::string& name, rrtype type, status st, std::string detail)
{
    answer a;
    a.name = name;
    a.type = type;
    a.st = st;
    a.detail = std::move(detail);
    return a;
}

}  // namespace

lookup_queue::lookup_queue(asio::any_io_executor ex, backend& b, std::chrono::milliseconds timeout,
                           std::size_t max_running)
    : ex_(std::move(ex)), backend_(b), timeout_(timeout), max_running_(std::max<std::size_t>(1, max_running))
{
}

lookup_stats lookup_queue::stats() const noexcept
{
    lookup_stats s = stats_;
    s.running = running_;
    s.queued = queries_.size() - running_;
    return s;
}

asio::awaitable<answer> lookup_queue::lookup(const std::string& asked, rrtype type, clock::time_point deadline)
{
    const std::string name = normalize(asked);
    if (name.empty() || name.size() > proto::max_dns_name_bytes)
        co_return failed(name, type, status::servfail, "invalid name");

    answer result;
    asio::steady_timer timer(ex_);
    timer.expires_at(std::min(deadline, clock::now() + timeout_));
    waiter w{&timer, &result};

    std::string key = name;
    key.push_back('/');
    key.append(to_string(type));
    auto& q = queries_[key];
    if (!q) {
        q = std::make_unique<query>();
        q->name = name;
        q->type = type;
        q->generation = next_generation_++;
        pending_.push_back(key);
    } else {
        ++stats_.coalesced;
    }
    q->waiters.push_back(&w);
    pump();
    if (w.done)  // answered inside pump(): the timer never started waiting
        co_return result;

    // The timer doubles as the wake-up signal: complete() cancels it. A
    // waiter that wakes without its answer has reached its deadline.
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (!w.done) {
        abandon(key, &w);
        ++stats_.timeouts;
        co_return failed(name, type, status::timeout, "no answer within deadline");
    }
    co_return result;
}

void lookup_queue::pump()
{
    while (running_ < max_running_ && !pending_.empty()) {
        std::string key = std::move(pending_.front());
        pending_.pop_front();
        auto it = queries_.find(key);
        if (it == queries_.end() || it->second->running)
            continue;
        query& q = *it->second;
        q.running = true;
        ++running_;
        ++stats_.started;
        std::uint64_t gen = q.generation;
        int id = backend_.start(q.name, q.type, [this, key, gen](answer a) { complete(key, gen, std::move(a)); });
        if (id < 0) {
            complete(key, gen, failed(q.name, q.type, status::servfail, "resolver refused the query"));
            continue;
        }
        // start() may already have completed (and erased) the query.
        if (auto again = queries_.find(key); again != queries_.end() && again->second->generation == gen)
            again->second->id = id;
    }
}

void lookup_queue::complete(const std::string& key, std::uint64_t generation, answer a)
{
    auto it = queries_.find(key);
    if (it == queries_.end() || it->second->generation != generation)
        return;
    std::unique_ptr<query> q = std::move(it->second);
    queries_.erase(it);
    if (q->running)
        --running_;
    for (waiter* w : q->waiters) {
        *w->out = a;
        w->done = true;
        w->timer->cancel();
    }
    // Starting the next query from inside the backend's callback would
    // re-enter the DNS library; do it from the loop instead.
    asio::post(ex_, [this] { pump(); });
}

void lookup_queue::abandon(const std::string& key, waiter* w)
{
    auto it = queries_.find(key);
    if (it == queries_.end())
        return;
    auto& ws = it->second->waiters;
    ws.erase(std::remove(ws.begin(), ws.end(), w), ws.end());
    if (!ws.empty())
        return;
    // Nobody waits any more: free the slot for someone who does.
    if (it->second->running) {
        backend_.cancel(it->second->id);
        --running_;
    }
    queries_.erase(it);
    pump();
}

}  // namespace mxw::dns
