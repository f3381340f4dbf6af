// milter/policy_client.hpp: one blocking connection to mxwardend's policy
// listener, owned by one MTA connection (libmilter runs a connection's
// callbacks one after another, so nothing here is shared or locked). Each
// request has one deadline covering connect, write and read; the
// connection is kept for the next request and opened again when needed.
#pragma once
#include "proto/endpoint.hpp"
#include "proto/policy_attrs.hpp"
#include "proto/policy_reply.hpp"

#include <chrono>
#include <string>

namespace mxw::milter {

class policy_client {
public:
    using clock = std::chrono::steady_clock;

    policy_client(proto::endpoint peer, std::chrono::milliseconds timeout) noexcept
        : peer_(std::move(peer)), timeout_(timeout)
    {
    }
    ~policy_client();
    policy_client(const policy_client&) = delete;
    policy_client& operator=(const policy_client&) = delete;

    struct answer {
        bool ok = false;
        std::string action;  ///< the reply's action text, when ok
        std::string error;   ///< what went wrong, when not ok
    };

    /// Sends `req` and waits for the reply until the deadline. A kept
    /// connection the daemon closed meanwhile (its idle timeout) is opened
    /// again once, within the same deadline. Any failure closes the
    /// connection, so the next request starts clean.
    answer ask(const proto::policy_request& req);

private:
    // Throw std::runtime_error with the reason; ask() turns that into an answer.
    void connect(clock::time_point deadline);
    void wait(short events, clock::time_point deadline, const char* what);
    void write_all(const std::string& bytes, clock::time_point deadline);
    std::string read_reply(clock::time_point deadline, bool& got_bytes);
    void close() noexcept;

    proto::endpoint peer_;
    std::chrono::milliseconds timeout_;
    int fd_ = -1;
    proto::policy_reply_decoder decoder_;
};

}  // namespace mxw::milter
