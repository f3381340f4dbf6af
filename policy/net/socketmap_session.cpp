#include "net/socketmap_session.hpp"

#include "net/idle_watch.hpp"
#include "proto/limits.hpp"
#include "proto/netstring.hpp"
#include "proto/sanitize.hpp"
#include "proto/socketmap.hpp"

#include <array>

namespace mxw::net {

template <class Socket>
asio::awaitable<void> run_socketmap_session(Socket sock, socketmap_service& svc)
{
    auto watch = idle_watch<Socket>::start(sock, svc.idle_timeout);
    idle_guard<Socket> guard{watch};

    proto::netstring_decoder decoder(proto::max_socketmap_request_bytes);
    std::array<char, 8192> buf;
    for (;;) {
        boost::system::error_code ec;
        std::size_t n = co_await sock.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
        if (ec)
            co_return;
        watch->touch();
        std::string_view in(buf.data(), n);
        while (!in.empty()) {
            proto::step s = decoder.feed(in);
            in.remove_prefix(decoder.consumed());
            if (s == proto::step::need_more)
                break;
            std::error_code perr;
            std::optional<proto::socketmap_request> req;
            if (s == proto::step::frame)
                req = proto::parse_socketmap_request(decoder.payload(), perr);
            if (!req) {
                // Framing or request syntax is broken: nothing after it can be
                // trusted to line up with our replies.
                ++svc.protocol_errors;
                svc.log.warning("event=protocol-error proto=socketmap error=" +
                                proto::log_value((s == proto::step::error ? decoder.error() : perr).message()) +
                                " action=disconnect");
                co_return;
            }
            ++svc.lookups;
            engine::map_answer a = co_await svc.router.lookup(req->map, req->key);
            auto status = a.st == engine::map_answer::status::ok         ? proto::socketmap_status::ok
                          : a.st == engine::map_answer::status::notfound ? proto::socketmap_status::notfound
                                                                         : proto::socketmap_status::temp;
            if (status == proto::socketmap_status::ok)
                svc.log.info("route map=" + proto::log_value(req->map) + " key=" + proto::log_value(req->key) +
                             " answer=" + proto::log_value(a.data, 1000));
            std::string reply = proto::encode_socketmap_reply(status, a.data);
            co_await asio::async_write(sock, asio::buffer(reply), asio::redirect_error(asio::use_awaitable, ec));
            if (ec)
                co_return;
        }
    }
}

template asio::awaitable<void> run_socketmap_session(asio::ip::tcp::socket, socketmap_service&);
template asio::awaitable<void> run_socketmap_session(asio::local::stream_protocol::socket, socketmap_service&);

}  // namespace mxw::net
