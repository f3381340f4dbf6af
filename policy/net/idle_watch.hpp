// net/idle_watch.hpp: closes a connection that stays idle too long. The
// timer is armed once and re-armed lazily from the last activity, so a busy
// connection costs no timer work per request. Shared ownership: the timer
// handler may outlive the session's coroutine frame.
#pragma once
#include "net/asio.hpp"

#include <chrono>
#include <memory>

namespace mxw::net {

template <class Socket>
struct idle_watch : std::enable_shared_from_this<idle_watch<Socket>> {
    using clock = asio::steady_timer::clock_type;

    idle_watch(Socket& s, std::chrono::milliseconds max_idle) : sock(&s), timer(s.get_executor()), limit(max_idle) {}

    static std::shared_ptr<idle_watch> start(Socket& s, std::chrono::milliseconds max_idle)
    {
        auto w = std::make_shared<idle_watch>(s, max_idle);
        w->arm();
        return w;
    }

    void touch() { last = clock::now(); }

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
};

/// Detaches the watch from the session when the session's frame ends.
template <class Socket>
struct idle_guard {
    std::shared_ptr<idle_watch<Socket>>& w;
    ~idle_guard()
    {
        w->sock = nullptr;
        w->timer.cancel();
    }
};

}  // namespace mxw::net
