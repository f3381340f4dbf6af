// net/metrics_session.hpp: the Prometheus scrape endpoint (listen.metrics).
// Just enough HTTP/1.x: one GET per connection, read with a size cap and an
// idle deadline, answered and closed. Anything but GET /metrics gets 404 or
// 400; the body comes from the daemon, which owns every number.
#pragma once
#include "net/asio.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

namespace mxw::net {

struct metrics_service {
    std::function<std::string()> render;  ///< the exposition text
    std::chrono::milliseconds idle_timeout{5000};
};

template <class Socket>
asio::awaitable<void> run_metrics_session(Socket sock, metrics_service& svc);

/// The response for one request head (everything up to the blank line).
/// Pure, for the session and its tests.
std::string metrics_response(std::string_view request_head, const std::function<std::string()>& render);

}  // namespace mxw::net
