// proto/mail_address.hpp: checks on envelope addresses that the quarantine
// stores and later hands to sendmail's argv or to SMTP MAIL FROM / RCPT TO.
// Not an RFC 5321 parser: the MTA has accepted these addresses already. The
// checks only keep out what would change the meaning of a command line or
// an SMTP command (a leading '-', line breaks, control bytes, angle
// brackets, unbounded length). Pure.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace mxw::proto {

/// nullopt if `addr` is safe to pass on, else why not ("starts with '-'",
/// ...). The empty address (the null sender) is allowed only with
/// `allow_empty`. Spaces are allowed only inside a quoted local part
/// (`"john doe"@example.org`, as pipe(8) flag q writes it). Bytes above
/// 0x7f pass (SMTPUTF8 addresses).
std::optional<std::string> check_envelope_address(std::string_view addr, bool allow_empty);

/// The domain after the last '@', lower-cased; empty if there is none.
std::string address_domain(std::string_view addr);

/// "<>" and "" both mean the null sender (Sendmail passes "<>" for $g,
/// Postfix pipe(8) with null_sender= an empty word); angle brackets around
/// any other address are removed.
std::string normalize_sender(std::string_view sender);

}  // namespace mxw::proto
