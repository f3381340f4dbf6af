#include "net/metrics_session.hpp"

#include "net/idle_watch.hpp"
#include "proto/errors.hpp"

#include <array>

namespace mxw::net {
namespace {

std::string http(std::string_view status, std::string_view type, const std::string& body)
{
    return "HTTP/1.1 " + std::string(status) + "\r\nContent-Type: " + std::string(type) +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

}  // namespace

std::string metrics_response(const std::optional<proto::http_request>& req, const std::function<std::string()>& render)
{
    if (!req)
        return http("400 Bad Request", "text/plain", "bad request\n");
    std::string_view target = req->target;
    if (target != "/metrics" && !target.starts_with("/metrics?"))
        return http("404 Not Found", "text/plain", "mxwardend serves /metrics only\n");
    if (req->method != "GET")
        return http("405 Method Not Allowed", "text/plain", "GET only\n");
    return http("200 OK", "text/plain; version=0.0.4; charset=utf-8", render());
}

template <class Socket>
asio::awaitable<void> run_metrics_session(Socket sock, metrics_service& svc)
{
    auto watch = idle_watch<Socket>::start(sock, svc.idle_timeout);
    idle_guard<Socket> guard{watch};
    proto::http_request_decoder decoder;
    std::array<char, 2048> buf;
    std::optional<proto::http_request> req;
    boost::system::error_code ec;
    for (;;) {
        std::size_t n = co_await sock.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
        if (ec)
            co_return;  // cut off or idle: nothing worth an answer
        proto::step s = decoder.feed(std::string_view(buf.data(), n));
        if (s == proto::step::frame) {
            req = decoder.request();
            break;
        }
        if (s == proto::step::error) {
            // A head past the caps gets no answer (it is no scraper);
            // a malformed one is told so.
            auto e = decoder.error();
            if (e == proto::proto_errc::http_head_too_long || e == proto::proto_errc::http_too_many_fields)
                co_return;
            break;
        }
    }
    std::string reply = metrics_response(req, svc.render);
    co_await asio::async_write(sock, asio::buffer(reply), asio::redirect_error(asio::use_awaitable, ec));
}

template asio::awaitable<void> run_metrics_session(asio::ip::tcp::socket, metrics_service&);
template asio::awaitable<void> run_metrics_session(asio::local::stream_protocol::socket, metrics_service&);

}  // namespace mxw::net
