// net/idle_watch.hpp: closes a connection that stays idle too long, and lets
// a drain (SIGTERM) close the connections that wait for a request while the
// busy ones finish theirs. The timer is armed once and re-armed lazily from
// the last activity, so a busy connection costs no timer work per request.
// Shared ownership: the timer handler may outlive the session's coroutine
// frame.
#pragma once
#include "net/asio.hpp"

#include <chrono>
#include <memory>
#include <unordered_set>

namespace mxw::net {

/// A session a drain can end once it is between requests.
struct drainable {
    virtual ~drainable() = default;
    virtual void close_if_idle() = 0;
    /// The set is going away first (the daemon's exit destroys the services
    /// before the io_context that still holds session frames).
    virtual void detach() = 0;
};

/// The running sessions of one service. A session is idle while it waits
/// for the first byte of its next request; a drain closes idle sessions at
/// once and tells busy ones to end after their answer (session_set::draining).
class session_set {
public:
    session_set() = default;
    session_set(const session_set&) = delete;
    session_set& operator=(const session_set&) = delete;
    ~session_set()
    {
        for (auto* s : sessions_)
            s->detach();
    }
    void add(drainable* s) { sessions_.insert(s); }
    void remove(drainable* s) { sessions_.erase(s); }
    [[nodiscard]] bool draining() const noexcept { return draining_; }
    [[nodiscard]] std::size_t size() const noexcept { return sessions_.size(); }
    void drain()
    {
        draining_ = true;
        // close_if_idle() only cancels a read; nobody leaves the set here.
        for (auto* s : sessions_)
            s->close_if_idle();
    }

private:
    std::unordered_set<drainable*> sessions_;
    bool draining_ = false;
};

template <class Socket>
struct idle_watch final : drainable, std::enable_shared_from_this<idle_watch<Socket>> {
    using clock = asio::steady_timer::clock_type;

    idle_watch(Socket& s, std::chrono::milliseconds max_idle, session_set* set)
        : sock(&s), timer(s.get_executor()), limit(max_idle), sessions(set)
    {
        if (sessions)
            sessions->add(this);
    }

    static std::shared_ptr<idle_watch> start(Socket& s, std::chrono::milliseconds max_idle,
                                             session_set* set = nullptr)
    {
        auto w = std::make_shared<idle_watch>(s, max_idle, set);
        w->arm();
        return w;
    }

    void touch() { last = clock::now(); }

    /// Waiting for a request (idle = true) or working on one. Returns false
    /// when the session should end instead of reading on: a drain began.
    bool set_idle(bool is_idle)
    {
        idle = is_idle;
        return !(is_idle && sessions && sessions->draining());
    }

    void detach() override { sessions = nullptr; }

    void close_if_idle() override
    {
        if (idle && sock) {
            boost::system::error_code ignored;
            sock->close(ignored);
        }
    }

    void arm()
    {
        timer.expires_at(last + limit);
        timer.async_wait([self = this->shared_from_this()](boost::system::error_code ec) {
            if (ec || !self->sock)
                return;
            if (clock::now() >= self->last + self->limit) {
                boost::system::error_code ignored;
                self->sock->close(ignored);
            } else {
                self->arm();
            }
        });
    }

    Socket* sock;  // null once the session has ended
    asio::steady_timer timer;
    std::chrono::milliseconds limit;
    clock::time_point last = clock::now();
    session_set* sessions;
    bool idle = true;
};

/// Detaches the watch from the session when the session's frame ends.
template <class Socket>
struct idle_guard {
    std::shared_ptr<idle_watch<Socket>>& w;
    ~idle_guard()
    {
        w->sock = nullptr;
        w->timer.cancel();
        if (w->sessions)
            w->sessions->remove(w.get());
    }
};

}  // namespace mxw::net
