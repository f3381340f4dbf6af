// cli/control_client.hpp: the CLI's side of the control socket: one
// request line (proto/control_request.hpp) out, the whole answer back (the
// daemon closes after it). Every step has a deadline, so a daemon that
// accepts and never answers costs the user a clear message, not a hung
// terminal. Blocking, one conversation at a time.
#pragma once
#include "proto/control_request.hpp"
#include "proto/endpoint.hpp"

#include <chrono>
#include <stdexcept>
#include <string>

namespace mxw::cli {

/// The daemon could not be reached, or hung up before answering.
struct control_unreachable : std::runtime_error {
    using std::runtime_error::runtime_error;
};
/// The daemon took the connection but did not answer in time.
struct control_timeout : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Largest answer taken by default: a route answer in JSON with every
/// address of the largest MX set stays far below it. `health` passes its
/// own cap (proto::max_health_report_bytes): a report of thousands of hosts
/// is longer, and its codec bounds it.
inline constexpr std::size_t max_control_answer_bytes = 1 << 20;

/// Connects (within `connect_within`), sends `req`, and returns everything
/// the daemon writes until it closes, which must happen within
/// `answer_within` of the request being sent. Throws control_timeout
/// ("mxwardend did not answer on unix:/run/x.sock within 5s"),
/// control_unreachable, or std::runtime_error for an answer over
/// `max_answer` bytes.
std::string ask_control(const proto::endpoint& where, const proto::control_request& req,
                        std::chrono::milliseconds connect_within, std::chrono::milliseconds answer_within,
                        std::size_t max_answer = max_control_answer_bytes);

/// "5s", or "1500ms" when not whole seconds: for messages.
std::string format_wait(std::chrono::milliseconds d);

}  // namespace mxw::cli
