// proto/control_request.hpp: the one request line the mxwarden CLI sends
// to mxwardend's control socket (listen.control):
//   line    = request [ blanks "json" ] *blank [ LF ]    blank = SP / HTAB / CR
//   request = "ping" / "status" / "route" blanks word
//           / "check" blanks ( "sender" / "client" ) blanks word
//   line    =/ "health" *blank [ LF ]
//   word    = 1*( any byte but blanks, LF and other controls )
// "json" asks for the JSON answer. It is told from a word by position: the
// request has a fixed number of words, so "check sender json" checks a
// sender called "json". `health` has no JSON form: its answer is always
// proto/health_report.hpp's text, which each reader renders itself. Limit: max_control_line_bytes, LF included. Pure:
// shared by the daemon's session and the CLI.
#pragma once
#include "proto/limits.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mxw::proto {

struct control_request {
    enum class verb { ping, status, route, check_sender, check_client, health } what = verb::ping;
    std::string subject;  ///< the domain, address or IP; empty for ping, status and health
    bool json = false;
    bool operator==(const control_request&) const = default;
};

/// Parses one line (with or without its LF). nullopt when, with its LF, it
/// is longer than max_control_line_bytes, holds a control byte other than a blank or the
/// final LF, or is not one of the requests above.
std::optional<control_request> parse_control_request(std::string_view line);

/// The line for `req`, LF included. The subject must be a word (the CLI
/// checks that first, see control_subject_ok()); any other subject is the
/// caller's bug and makes a line the daemon refuses. For health, json is
/// not sent (there is no JSON form).
std::string encode_control_request(const control_request& req);

/// The longest subject that fits a line beside the longest request words
/// ("check sender " and " json\n").
inline constexpr std::size_t max_control_subject_bytes = max_control_line_bytes - 19;

/// Whether `subject` can be sent as the word of a request: not empty, at
/// most max_control_subject_bytes, no blanks or control bytes.
bool control_subject_ok(std::string_view subject) noexcept;

}  // namespace mxw::proto
