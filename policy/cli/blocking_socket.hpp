// cli/blocking_socket.hpp: a connected stream socket for the CLI's short
// conversations (the daemon's control socket during ingest, SMTP on
// release), with a deadline on every operation. The CLI runs one
// conversation at a time, so plain blocking calls bounded by poll() are
// simpler than an event loop. Failures throw std::runtime_error naming the
// peer; a passed deadline throws its subclass socket_timeout, so a caller
// can tell a silent peer from a broken one.
#pragma once
#include "proto/endpoint.hpp"

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>

namespace mxw::cli {

struct socket_timeout : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class blocking_socket {
public:
    using clock = std::chrono::steady_clock;

    /// Connects to an inet or unix endpoint before `deadline`.
    blocking_socket(const proto::endpoint& peer, clock::time_point deadline);
    ~blocking_socket();
    blocking_socket(const blocking_socket&) = delete;
    blocking_socket& operator=(const blocking_socket&) = delete;

    /// Writes all of `bytes` before `deadline`.
    void write_all(std::string_view bytes, clock::time_point deadline);
    /// Appends what arrives (at least one byte) to `out`; false at end of
    /// stream. Appends at most `max` bytes.
    bool read_some(std::string& out, std::size_t max, clock::time_point deadline);
    /// Half-closes the sending side, so the peer sees end of stream.
    void shutdown_write() noexcept;

private:
    void wait(short events, clock::time_point deadline, std::string_view what);
    int fd_ = -1;
    std::string peer_;  // for messages
};

}  // namespace mxw::cli
