#include "net/socketmap_session.hpp"

#include "net/idle_watch.hpp"
#include "proto/limits.hpp"
#include "proto/netstring.hpp"
#include "proto/sanitize.hpp"
#include "proto/socketmap.hpp"

#include <array>
#include <string>

namespace mxw::net {

template <class Socket>
asio::awaitable<void> run_socketmap_session(Socket sock, socketmap_service& svc)
{
    auto watch = idle_watch<Socket>::start(sock, svc.idle_timeout, &svc.sessions);
    idle_guard<Socket> guard{watch};

    proto::netstring_decoder decoder(proto::max_socketmap_request_bytes);
    std::array<char, 8192> buf;
    // The route log line of every lookup is built here, in place: a warm
    // lookup is otherwise cheap enough that temporary strings for the line
    // are a visible part of its cost.
    std::string line;
    // For the direct write below; Asio's asynchronous operations work the
    // same on a non-blocking socket.
    boost::system::error_code nb_ec;
    sock.non_blocking(true, nb_ec);
    // Bytes of a request not yet complete: the session is not idle then, and
    // a drain lets it finish.
    bool partial = false;
    for (;;) {
        if (!watch->set_idle(!partial))
            co_return;  // draining, and every request read so far is answered
        boost::system::error_code ec;
        std::size_t n = co_await sock.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
        if (ec)
            co_return;
        watch->touch();
        watch->set_idle(false);
        std::string_view in(buf.data(), n);
        while (!in.empty()) {
            proto::step s = decoder.feed(in);
            in.remove_prefix(decoder.consumed());
            partial = s == proto::step::need_more;
            if (partial)
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
            if (status == proto::socketmap_status::ok) {
                // parse_socketmap_request() admits only [A-Za-z0-9_.-] in a
                // map name: nothing to quote or escape.
                line.assign("route map=").append(req->map);
                line.append(" key=");
                proto::log_value_into(line, req->key);
                line.append(" answer=");
                proto::log_value_into(line, a.data, 1000);
                svc.log.info(line);
            }
            std::string reply = proto::encode_socketmap_reply(status, a.data);
            // A reply is small and an MTA waits for it before it asks again,
            // so the send buffer is empty: a direct write takes it all and
            // spares the lookup a suspension and a trip through the
            // scheduler. Whatever it leaves (or all, if the socket could not
            // be made non-blocking) goes the asynchronous way.
            std::size_t sent = nb_ec ? 0 : sock.write_some(asio::buffer(reply), ec);
            if (ec == asio::error::would_block || ec == asio::error::try_again) {
                ec = {};
                sent = 0;
            }
            if (!ec && sent < reply.size())
                co_await asio::async_write(sock, asio::buffer(reply.data() + sent, reply.size() - sent),
                                           asio::redirect_error(asio::use_awaitable, ec));
            if (ec)
                co_return;
        }
    }
}

template asio::awaitable<void> run_socketmap_session(asio::ip::tcp::socket, socketmap_service&);
template asio::awaitable<void> run_socketmap_session(asio::local::stream_protocol::socket, socketmap_service&);

}  // namespace mxw::net
