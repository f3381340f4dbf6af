// proto/smtp_reply.hpp: incremental decoder for one SMTP reply, the MX
// greeting the banner prober reads (seed 004), plus an encoder for tests.
//
// Grammar (RFC 5321 §4.2): *( code "-" text EOL ) code [ " " text ] EOL, where
// code is three digits with the first in 2-5 and the same on every line, and
// EOL is CRLF or, tolerated, a bare LF. Text is kept raw (any byte but LF);
// callers sanitize it only when logging. Stricter than Postfix, which treats
// any line not shaped like "NNN " as a continuation. Limits (proto/limits.hpp):
// max_smtp_reply_line_bytes, max_smtp_reply_lines, max_smtp_reply_bytes.
// Pure code: no sockets, no logging, no clock.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "proto/step.hpp"

namespace mxw::proto {

/// One decoded reply: "220-a\r\n220 b\r\n" is {220, {"a", "b"}}.
struct smtp_reply {
    int code = 0;                    ///< 200-599
    std::vector<std::string> lines;  ///< text after "NNN-" / "NNN ", end of line removed; never empty once decoded
    bool operator==(const smtp_reply&) const = default;
};

/// The greeting that lets an SMTP client go on (RFC 5321 §4.3.2): 220 and
/// nothing else. A 421 or 554 greeting decodes fine but is not ok.
[[nodiscard]] bool is_greeting_ok(const smtp_reply& r) noexcept;

/// Incremental decoder for one connection. feed() may be called with any
/// split of the byte stream, down to one byte at a time, with the same
/// result, error included: every check runs on the first byte that breaks it.
class smtp_reply_decoder {
public:
    /// Consumes a prefix of `in`. Returns step::frame when a reply is complete
    /// (reply() then holds it, consumed() ends just past its last line feed),
    /// step::error with error() set on malformed or oversized input (the
    /// stream is beyond repair; the decoder stays failed until reset()), else
    /// step::need_more after using all of `in`. A bad code or separator fails
    /// on that byte, without waiting for the end of the line. The feed()
    /// after a frame starts the next reply.
    [[nodiscard]] step feed(std::string_view in) noexcept;
    /// Bytes of the last feed()'s `in` that were used; on step::error, those
    /// before the offending byte.
    [[nodiscard]] std::size_t consumed() const noexcept { return consumed_; }
    /// The reply the last feed() completed, owned by the decoder: valid until
    /// the next feed() or reset(). Partial and meaningless unless the last
    /// feed() returned step::frame.
    [[nodiscard]] const smtp_reply& reply() const noexcept { return reply_; }
    [[nodiscard]] std::error_code error() const noexcept { return ec_; }
    /// Back to the start of a reply with no error, keeping capacity.
    void reset() noexcept;

private:
    step take_header_byte(char c) noexcept;
    step finish_line() noexcept;
    step fail(std::error_code ec) noexcept;

    smtp_reply reply_;
    std::string line_;           // current line so far, LF excluded; at most max_smtp_reply_line_bytes
    std::size_t line_bytes_ = 0; // bytes of the current line, LF included once seen
    int line_code_ = 0;          // code digits of the current line, read so far
    std::size_t reply_bytes_ = 0;
    bool frame_done_ = false;    // last feed() ended a frame: start afresh
    std::size_t consumed_ = 0;
    std::error_code ec_;
};

/// "NNN-text\r\n" for every line but the last, "NNN text\r\n" for the last;
/// no lines encodes as "NNN \r\n". LF in text becomes a space so one line
/// stays one line. The code is written as given; 200-599 is the caller's
/// contract. Decoding the result gives `r` back when `r.lines` is not empty
/// and the encoding fits the limits (a decoded "NNN\n" grows to "NNN \r\n").
std::string encode_smtp_reply(const smtp_reply& r);

}  // namespace mxw::proto
