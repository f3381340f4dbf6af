// net/metrics_session.hpp: the Prometheus scrape endpoint (listen.metrics).
// Just enough HTTP/1.x: one GET per connection, its head decoded by
// proto/http_request.hpp within an idle deadline, answered and closed.
// Anything but GET /metrics gets 404, 405 or 400; the body comes from the
// daemon, which owns every number.
#pragma once
#include "net/asio.hpp"
#include "proto/http_request.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace mxw::net {

struct metrics_service {
    std::function<std::string()> render;  ///< the exposition text
    std::chrono::milliseconds idle_timeout{5000};
};

template <class Socket>
asio::awaitable<void> run_metrics_session(Socket sock, metrics_service& svc);

/// The response to a decoded request head, or to a malformed one (nullopt:
/// 400). Pure, for the session and its tests.
std::string metrics_response(const std::optional<proto::http_request>& req, const std::function<std::string()>& render);

}  // namespace mxw::net
