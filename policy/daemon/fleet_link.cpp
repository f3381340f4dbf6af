#include "daemon/fleet_link.hpp"

#include "proto/sanitize.hpp"

#include <algorithm>

namespace mxw::daemon {
namespace {

// What a node keeps of a peer's text: enough for `mxwarden route` (which
// shows 120 bytes of a detail), not what a broken peer could send.
constexpr std::size_t max_token_bytes = 64;
constexpr std::size_t max_detail_bytes = 512;
constexpr std::size_t max_address_bytes = 64;  // an IPv6 address is at most 45

std::string cut(const std::string& s, std::size_t n)
{
    return s.size() <= n ? s : s.substr(0, n);
}

}  // namespace

store::shared_observation to_shared(const std::string& address, const engine::observation& o, std::int64_t at_ms)
{
    return {.address = address,
            .node = o.node,
            .at_ms = at_ms,
            .source = std::string(engine::to_string(o.source)),
            .ok = o.ok,
            .outcome = o.outcome,
            .stage = o.stage,
            .detail = cut(o.detail, max_detail_bytes)};
}

std::optional<received_observation> from_shared(const store::shared_observation& s, std::int64_t wall_now_ms,
                                                engine::health_table::time_point now)
{
    engine::health_source source;
    if (s.source == engine::to_string(engine::health_source::probe))
        source = engine::health_source::probe;
    else if (s.source == engine::to_string(engine::health_source::delivery))
        source = engine::health_source::delivery;
    else
        return std::nullopt;
    if (s.address.empty() || s.address.size() > max_address_bytes || s.node.empty())
        return std::nullopt;
    const auto age = std::chrono::milliseconds(std::max<std::int64_t>(wall_now_ms - s.at_ms, 0));
    return received_observation{
        .address = s.address,
        .what = {.source = source,
                 .ok = s.ok,
                 .outcome = cut(s.outcome, max_token_bytes),
                 .stage = cut(s.stage, max_token_bytes),
                 .detail = cut(s.detail, max_detail_bytes),
                 .node = cut(s.node, max_token_bytes)},
        .at = now - std::chrono::duration_cast<engine::health_table::time_point::duration>(age)};
}

/// What one round trip did, back on the loop.
struct fleet_link::round_result {
    std::unique_ptr<store::fleet_state> handle;  ///< null after a failure
    std::vector<store::shared_observation> sent;
    std::vector<store::saved_route> routes;
    bool fetched = false;
    std::vector<store::shared_observation> received;
    store::fleet_cursor cursor;
    std::string error;  ///< empty: it worked
};

fleet_link::fleet_link(asio::any_io_executor loop, asio::any_io_executor store, opener open,
                       std::unique_ptr<store::fleet_state> opened, std::string node, store::fleet_cursor start,
                       fleet_settings s, receiver on_received, event_sink log)
    : loop_(loop), store_(std::move(store)), open_(std::move(open)), handle_(std::move(opened)),
      node_(std::move(node)), cursor_(start), cfg_(s), on_received_(std::move(on_received)), log_(std::move(log)),
      timer_(loop)
{
    counts_.up = handle_ != nullptr;
}

void fleet_link::start()
{
    stopped_ = false;
    tick();
}

void fleet_link::stop()
{
    stopped_ = true;
    timer_.cancel();
}

template <typename T>
void fleet_link::bound(std::deque<T>& q)
{
    // The newest news is worth most: what a node learned an hour ago about
    // a host has been learned again since, or has expired.
    while (q.size() > cfg_.max_queued) {
        q.pop_front();
        ++counts_.dropped;
    }
}

void fleet_link::publish(store::shared_observation o)
{
    out_.push_back(std::move(o));
    bound(out_);
    if (out_.size() >= cfg_.max_batch && !busy_ && counts_.up && !stopped_)
        launch();
}

void fleet_link::save_route(store::saved_route r)
{
    routes_.push_back(std::move(r));
    bound(routes_);
}

void fleet_link::tick()
{
    if (stopped_)
        return;
    const auto now = std::chrono::steady_clock::now();
    // While the database is down only the reconnect backoff says when to
    // try again; a failed round trip is retried whole.
    if (!busy_ && now >= retry_at_ && (!out_.empty() || !routes_.empty() || now >= next_poll_ || !counts_.up))
        launch();
    timer_.expires_after(cfg_.flush_interval);
    timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec)
            tick();
    });
}

void fleet_link::launch()
{
    busy_ = true;
    const auto now = std::chrono::steady_clock::now();
    round_result r;
    r.handle = std::move(handle_);
    auto take = [&](auto& q, auto& into) {
        std::size_t n = std::min(q.size(), cfg_.max_batch);
        into.assign(std::make_move_iterator(q.begin()), std::make_move_iterator(q.begin() + static_cast<std::ptrdiff_t>(n)));
        q.erase(q.begin(), q.begin() + static_cast<std::ptrdiff_t>(n));
    };
    take(out_, r.sent);
    take(routes_, r.routes);
    r.fetched = now >= next_poll_;
    r.cursor = cursor_;
    // The job owns everything it touches (the opener too, copied), so a
    // link stopped mid-trip leaves nothing dangling on the store thread.
    asio::post(store_, [this, r = std::move(r), open = open_, limit = cfg_.max_fetch, loop = loop_]() mutable {
        try {
            if (!r.handle)
                r.handle = open();
            if (!r.sent.empty())
                r.handle->publish(r.sent);
            if (!r.routes.empty())
                r.handle->save_routes(r.routes);
            if (r.fetched)
                r.received = r.handle->fetch(r.cursor, limit);
        } catch (const std::exception& e) {
            // store_error above all; anything else from a backend is as
            // much a reason to reconnect, never one to end the thread.
            r.handle.reset();
            r.error = e.what();
            if (r.error.empty())
                r.error = "unknown error";
        }
        asio::post(loop, [this, r = std::move(r)]() mutable { finish(std::move(r)); });
    });
}

void fleet_link::finish(round_result r)
{
    busy_ = false;
    const auto now = std::chrono::steady_clock::now();
    if (!r.error.empty()) {
        // Put the batch back in front, in order, for the next attempt.
        out_.insert(out_.begin(), std::make_move_iterator(r.sent.begin()), std::make_move_iterator(r.sent.end()));
        routes_.insert(routes_.begin(), std::make_move_iterator(r.routes.begin()),
                       std::make_move_iterator(r.routes.end()));
        bound(out_);
        bound(routes_);
        retry_ = std::clamp(retry_ * 2, cfg_.retry_min, cfg_.retry_max);
        retry_at_ = now + retry_;
        if (!down_logged_)
            log_(base::log_level::error, "event=store-down error=" + proto::log_value(r.error) +
                                             " retry-ms=" + std::to_string(retry_.count()) + " routing=local");
        down_logged_ = true;
        counts_.up = false;
        return;
    }
    handle_ = std::move(r.handle);
    if (down_logged_ || !counts_.up)
        log_(base::log_level::info, "event=store-up queued=" + std::to_string(out_.size() + routes_.size()) +
                                        " dropped-total=" + std::to_string(counts_.dropped));
    down_logged_ = false;
    counts_.up = true;
    retry_ = std::chrono::milliseconds(0);
    counts_.sent += r.sent.size();
    if (r.fetched) {
        cursor_ = r.cursor;
        // A full fetch means more is waiting: fetch again at once.
        next_poll_ = r.received.size() >= cfg_.max_fetch ? now : now + cfg_.poll_interval;
        // fetch() promises never to return this node's own; checked here
        // too, since taking one's own news for another node's counts it
        // twice.
        std::erase_if(r.received, [this](const store::shared_observation& o) { return o.node == node_; });
        counts_.received += r.received.size();
    }
    // A full batch waiting goes at once, not a flush interval later.
    if (out_.size() >= cfg_.max_batch && !stopped_)
        launch();
    if (!r.received.empty())
        on_received_(std::move(r.received));
}

}  // namespace mxw::daemon
