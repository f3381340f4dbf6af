// proto/postfix_log.hpp: decodes the Postfix smtp client's log lines into
// per-address delivery outcomes, the health source `delivery` (issue 11).
// A host that greets and then hangs after EHLO looks healthy to the banner
// probe; only Postfix's own delivery attempts show it.
//
// Input comes in two shapes: a syslog/maillog_file line ("Dec  6 07:00:00
// host postfix/smtp[123]: ABC123: ...", or an RFC 3339 timestamp), split by
// split_syslog_line(), or a journal entry's SYSLOG_IDENTIFIER and MESSAGE,
// passed to parse_smtp_message() directly. Only programs whose name ends in
// "/smtp" are read (any syslog_name prefix: "postfix", "postfix-out", ...).
// Pure code: no sockets, no logging, no clock; every size is capped.
//
// Which line is the event (Postfix 3.7, checked against real logs in
// tests/unit/data/postfix_log/): a failed address that Postfix leaves for
// another one gets a line of its own ("QID: conversation with mx[a] timed
// out ...", "host mx[a] refused to talk to me: ..."); the last address tried
// gets none, its trouble is only the reason of the recipients' status=deferred
// or status=bounced line, which names it as relay=mx[a]:port. Both are
// events. Connect failures are the exception: Postfix always logs "connect to
// mx[a]:25: ..." and the status line then says relay=none, so only the former
// counts; likewise a TLS failure is its "SSL_connect error to mx[a]:25" line,
// and the status line's "Cannot start TLS" (which names no host) is not.
// Postfix writes one status line per recipient: a session that carried N
// recipients gives N events with the same queue_id and address, and the
// caller counts them once.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mxw::proto {

/// What one delivery attempt to one host address showed.
enum class delivery_outcome {
    sent,              ///< status=sent with relay=host[addr]:port: the host works
    refused,           ///< connect to host[addr]:port: Connection refused
    connect_timeout,   ///< connect to host[addr]:port: Connection timed out
    greeting_timeout,  ///< timed out while receiving the initial server greeting
    greeting_4xx,      ///< host refused to talk to me: 421 ...
    greeting_5xx,      ///< host refused to talk to me: 554 ...
    lost,              ///< lost connection with host[addr], or a 421 reply that ends the session (stage
                       ///< says where; "greeting" when the host closed before greeting)
    timeout,           ///< conversation timed out after the greeting (stage says where)
    tls_failure,       ///< TLS handshake failed, or STARTTLS refused at a level that requires it
};
inline constexpr std::size_t delivery_outcome_count = 9;
std::string_view to_string(delivery_outcome o) noexcept;

struct delivery_event {
    delivery_outcome outcome = delivery_outcome::sent;
    std::string host;        ///< the name Postfix logged ("mx1.example.com"), lower case
    std::string address;     ///< canonical IP text ("192.0.2.1", "2001:db8::1")
    std::uint16_t port = 25;
    /// Where the conversation stood, as a short token: "connect", "greeting",
    /// "ehlo", "starttls", "tls", "mail", "rcpt", "data", "end-of-data", or ""
    /// for sent.
    std::string stage;
    std::string queue_id;    ///< "" when the line carries none
    std::string detail;      ///< Postfix's text, raw (sanitize when showing), at most 512 bytes
};

struct syslog_line {
    std::string_view program;  ///< "postfix/smtp" (without "[pid]")
    std::string_view message;  ///< after "[pid]: "
};

/// Longest line the follower hands to the codecs; longer ones are skipped.
inline constexpr std::size_t max_postfix_log_line_bytes = 8192;

/// Splits a traditional syslog or maillog_file line; nullopt when the line
/// does not have that shape or is longer than max_postfix_log_line_bytes.
std::optional<syslog_line> split_syslog_line(std::string_view line) noexcept;

/// The delivery outcome a Postfix smtp log message reports, or nullopt for
/// every other message (other programs, other events, malformed text). A
/// 4xx/5xx reply to MAIL, RCPT or DATA from a host that greeted is not a
/// host failure (the host answers; the message or recipient is the problem)
/// and yields nullopt, except 421, which closes the session (outcome lost).
std::optional<delivery_event> parse_smtp_message(std::string_view program, std::string_view message);

}  // namespace mxw::proto
