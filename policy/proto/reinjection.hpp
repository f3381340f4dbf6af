// proto/reinjection.hpp: what `quarantine release` hands back to the MTA,
// built without I/O so it can be tested: the sendmail argv, the tracking
// header that lets a released message that fails again find its own entry,
// and the SMTP DATA encoding (RFC 5321 §4.5.2 dot-stuffing, CRLF line ends).
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mxw::proto {

inline constexpr std::string_view quarantine_id_header = "X-Mxwarden-Quarantine-Id";

/// {path, "-i", "-f", sender, "--", rcpt...}: "-i" so a line with a single
/// dot does not end the message, "--" so no recipient is read as an
/// option. The null sender is passed as "<>", which both Postfix's and
/// Sendmail's sendmail take for it. The caller has checked the addresses
/// (check_envelope_address).
std::vector<std::string> sendmail_argv(std::string_view path, std::string_view sender,
                                       std::span<const std::string> recipients);

/// `message` with "X-Mxwarden-Quarantine-Id: ID" as its first line, ended
/// like the message's own first line (LF from pipe(8), CRLF from SMTP).
std::string with_quarantine_id(std::string_view message, std::int64_t id);

/// The entry id from the first X-Mxwarden-Quarantine-Id field, if it is a
/// plain positive decimal number that fits an int64.
std::optional<std::int64_t> parse_quarantine_id(std::string_view message);

/// The DATA payload: every line ended by CRLF (a bare LF or CR becomes
/// CRLF), a leading '.' doubled, a missing last line end added, then the
/// terminating ".\r\n".
std::string encode_smtp_data(std::string_view message);

/// True if any byte is above 0x7f: such a message needs BODY=8BITMIME.
bool has_8bit(std::string_view message) noexcept;

}  // namespace mxw::proto
