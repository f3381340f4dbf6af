// proto/limits.hpp: every peer-controlled size mxwarden accepts, in one place.
// Each limit is tested at its value and one past it (tests/unit/proto_*).
#pragma once
#include <cstddef>

namespace mxw::proto {

// Postfix policy delegation (SMTPD_POLICY_README). Postfix itself reads lines
// up to line_length_limit (2048) and keeps attribute values up to four times
// that; 8192 keeps every legitimate value, including long ccert_subject lines.
inline constexpr std::size_t max_policy_line_bytes = 8192;
// Postfix 3.7 sends about 30 attributes, 3.12 a few more.
inline constexpr std::size_t max_policy_attributes = 100;
// Upper bound for one whole request, blank line included.
inline constexpr std::size_t max_policy_request_bytes = 32768;

// DNS names (RFC 1035 §3.1): 255 octets on the wire, labels up to 63.
inline constexpr std::size_t max_dns_name_bytes = 255;
inline constexpr std::size_t max_dns_label_bytes = 63;

// How many PTR names of one address are forward-checked; more is an abuse
// of PTR records that no legitimate mail server needs.
inline constexpr std::size_t max_ptr_names_checked = 4;

// Control socket: one request line from the local CLI.
inline constexpr std::size_t max_control_line_bytes = 1024;

// Longest peer-supplied string copied into a log line.
inline constexpr std::size_t max_logged_value_bytes = 200;

}  // namespace mxw::proto
