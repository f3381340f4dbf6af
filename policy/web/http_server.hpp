// web/http_server.hpp: mxwarden-web's HTTP/1.1 server, on Boost.Beast and
// the one Asio loop. It reads and checks what a browser sends before a page
// sees it: caps on the head (proto::max_http_head_bytes), the body
// (proto::max_form_bytes) and the target (proto::max_http_target_bytes);
// a deadline for the head and one for the whole request, so a slow client
// cannot hold a connection; origin-form targets with a safe decoded path;
// GET, HEAD and POST only; a cap on connections (503 beyond it). Each good
// request becomes a web::request for the handler; every answer carries the
// security headers (security_headers()). It never parses forms or cookies
// (proto/form) and knows no page.
#pragma once
#include "base/logging.hpp"
#include "net/asio.hpp"
#include "net/listener.hpp"
#include "proto/endpoint.hpp"
#include "web/http_types.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace mxw::web {

struct server_limits {
    std::size_t max_connections = 64;
    /// From the first byte of a request to the end of its head.
    std::chrono::milliseconds head_timeout{10'000};
    /// From the first byte of a request to the end of its body.
    std::chrono::milliseconds request_timeout{30'000};
    /// Writing one answer (a raw message download is the largest).
    std::chrono::milliseconds write_timeout{60'000};
    /// A kept-alive connection waiting for its next request; a new one
    /// waits head_timeout for its first.
    std::chrono::milliseconds idle_timeout{30'000};
    std::size_t max_requests_per_connection = 1000;
};

/// Content-Security-Policy, X-Frame-Options and the other headers on every
/// answer, in the order they are sent. The pages load their CSS from
/// /static/ and use no script or inline style.
std::span<const std::pair<std::string_view, std::string_view>> security_headers() noexcept;

/// "Text/HTML; charset=UTF-8" -> "text/html": the media type alone, lower
/// case, without parameters or surrounding blanks.
std::string media_type(std::string_view content_type);

class http_server {
public:
    /// `h` and `log` must outlive the server. Loop thread only.
    http_server(asio::io_context& io, handler& h, base::logger& log, server_limits limits = {});
    ~http_server();
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    /// Binds `where` (inet, or a unix socket of mode 0660) and starts
    /// accepting. Throws std::system_error naming the endpoint.
    void listen(const proto::endpoint& where);

    /// Stops accepting; connections waiting for a request are closed at
    /// once, busy ones after their current answer (sent with
    /// "Connection: close").
    void stop();

    /// Connections open now (refused ones included while they are told so).
    [[nodiscard]] std::size_t active() const noexcept;

    struct impl;

private:
    std::unique_ptr<impl> impl_;
};

}  // namespace mxw::web
