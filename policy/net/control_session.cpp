#include "net/control_session.hpp"

#include "engine/report.hpp"
#include "net/idle_watch.hpp"
#include "proto/control_request.hpp"
#include "proto/limits.hpp"
#include "proto/sanitize.hpp"

namespace mxw::net {
namespace {

asio::awaitable<std::string> answer(const proto::control_request& req, control_service& svc)
{
    using verb = proto::control_request::verb;
    switch (req.what) {
    case verb::ping: co_return "pong\n";
    case verb::status: co_return svc.status(req.json);
    case verb::health:
        if (!svc.health)
            co_return "error: no health report here\n";
        co_return svc.health();
    case verb::route: co_return co_await svc.router.explain(req.subject, req.json);
    case verb::check_sender:
    case verb::check_client: {
        const bool sender = req.what == verb::check_sender;
        engine::decision d;
        if (sender)
            d = co_await svc.engine.explain_sender(req.subject);
        else
            d = co_await svc.engine.explain_client(req.subject);
        svc.log.info(std::string("event=control command=check-") + (sender ? "sender" : "client") +
                     " subject=" + proto::log_value(req.subject) + " action=" + std::string(engine::to_string(d.act)));
        co_return req.json ? engine::format_json(d) : engine::format_text(d);
    }
    }
    co_return "error: unknown command\n";
}

}  // namespace

template <class Socket>
asio::awaitable<void> run_control_session(Socket sock, control_service& svc)
{
    std::string line;
    boost::system::error_code ec;
    std::size_t n = 0;
    {
        // The watch closes the socket when the line is late, which ends the
        // read with an error; leaving the block detaches it before the
        // answer, which may take as long as the engine's deadline.
        auto watch = idle_watch<Socket>::start(sock, svc.request_timeout);
        idle_guard<Socket> guard{watch};
        n = co_await asio::async_read_until(sock, asio::dynamic_buffer(line, proto::max_control_line_bytes), '\n',
                                            asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!sock.is_open()) {
        svc.log.info("event=control-timeout stage=request limit_ms=" + std::to_string(svc.request_timeout.count()));
        co_return;
    }
    std::string out;
    if (ec || n == 0) {
        out = "error: request line missing or longer than " + std::to_string(proto::max_control_line_bytes) +
              " bytes\n";
    } else if (auto req = proto::parse_control_request(std::string_view(line).substr(0, n))) {
        out = co_await answer(*req, svc);
    } else {
        out = "error: unknown command '" + proto::sanitize(std::string_view(line).substr(0, n)) + "'\n";
    }
    auto watch = idle_watch<Socket>::start(sock, svc.request_timeout);
    idle_guard<Socket> guard{watch};
    co_await asio::async_write(sock, asio::buffer(out), asio::redirect_error(asio::use_awaitable, ec));
    if (!sock.is_open())
        svc.log.info("event=control-timeout stage=answer limit_ms=" + std::to_string(svc.request_timeout.count()));
}

template asio::awaitable<void> run_control_session(asio::ip::tcp::socket, control_service&);
template asio::awaitable<void> run_control_session(asio::local::stream_protocol::socket, control_service&);

}  // namespace mxw::net
