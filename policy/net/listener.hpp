// net/listener.hpp: accept loops for inet and unix listeners, with a cap on
// concurrent connections. Sessions are started with co_spawn and a handler
// that logs an escaped exception: one broken connection never takes the
// daemon down.
#pragma once
#include "base/logging.hpp"
#include "net/asio.hpp"
#include "proto/endpoint.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace mxw::net {

using tcp_session = std::function<asio::awaitable<void>(asio::ip::tcp::socket)>;
using unix_session = std::function<asio::awaitable<void>(asio::local::stream_protocol::socket)>;

struct connection_count {
    std::size_t max = 1000;
    std::size_t active = 0;
};

class listener {
public:
    virtual ~listener() = default;
    virtual void close() = 0;
};

/// Binds `where` and starts accepting. A unix socket replaces a stale socket
/// file (never any other kind of file) and gets mode `unix_mode`. Throws
/// std::system_error naming the endpoint when it cannot listen.
std::unique_ptr<listener> start_listener(asio::io_context& io, const proto::endpoint& where, std::string name,
                                         tcp_session on_tcp, unix_session on_unix, connection_count& count,
                                         base::logger& log, unsigned unix_mode = 0660);

/// Starts accepting on `fd`, a listening socket handed over by systemd
/// (socket activation): whether it is inet or unix is read off the socket.
/// The listener owns `fd` from here on. Throws std::system_error when `fd`
/// is not a listening stream socket.
std::unique_ptr<listener> adopt_listener(asio::io_context& io, int fd, std::string name, tcp_session on_tcp,
                                         unix_session on_unix, connection_count& count, base::logger& log);

/// "inet:127.0.0.1:10040" or "unix:/run/x.sock": where `fd` is bound, for
/// log lines; "fd:N" when it cannot be told.
std::string describe_socket(int fd);

}  // namespace mxw::net
