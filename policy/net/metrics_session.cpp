#include "net/metrics_session.hpp"

#include "net/idle_watch.hpp"

namespace mxw::net {
namespace {

// A scraper's request line and headers; browsers and curl stay far below.
constexpr std::size_t max_request_head_bytes = 8192;

std::string http(std::string_view status, std::string_view type, const std::string& body)
{
    return "HTTP/1.1 " + std::string(status) + "\r\nContent-Type: " + std::string(type) +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

}  // namespace

std::string metrics_response(std::string_view head, const std::function<std::string()>& render)
{
    auto eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol == std::string_view::npos ? head.size() : eol);
    auto sp1 = line.find(' ');
    auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || !line.substr(sp2 + 1).starts_with("HTTP/1."))
        return http("400 Bad Request", "text/plain", "bad request\n");
    std::string_view method = line.substr(0, sp1);
    std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    if (target != "/metrics" && !target.starts_with("/metrics?"))
        return http("404 Not Found", "text/plain", "mxwardend serves /metrics only\n");
    if (method != "GET")
        return http("405 Method Not Allowed", "text/plain", "GET only\n");
    return http("200 OK", "text/plain; version=0.0.4; charset=utf-8", render());
}

template <class Socket>
asio::awaitable<void> run_metrics_session(Socket sock, metrics_service& svc)
{
    auto watch = idle_watch<Socket>::start(sock, svc.idle_timeout);
    idle_guard<Socket> guard{watch};
    std::string head;
    boost::system::error_code ec;
    std::size_t n = co_await asio::async_read_until(sock, asio::dynamic_buffer(head, max_request_head_bytes), "\r\n\r\n",
                                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec)
        co_return;  // too long, cut off or idle: nothing worth an answer
    std::string reply = metrics_response(std::string_view(head).substr(0, n), svc.render);
    co_await asio::async_write(sock, asio::buffer(reply), asio::redirect_error(asio::use_awaitable, ec));
}

template asio::awaitable<void> run_metrics_session(asio::ip::tcp::socket, metrics_service&);
template asio::awaitable<void> run_metrics_session(asio::local::stream_protocol::socket, metrics_service&);

}  // namespace mxw::net
