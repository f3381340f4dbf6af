// proto/errors.hpp: error codes of the pure codecs. No I/O, no logging: the
// session that called the codec decides what to log and whether to disconnect.
#pragma once
#include <system_error>

namespace mxw::proto {

enum class proto_errc {
    line_too_long = 1,     ///< a policy line is longer than max_policy_line_bytes
    request_too_long,      ///< a policy request is longer than max_policy_request_bytes
    too_many_attributes,   ///< more than max_policy_attributes lines in one request
    missing_equals,        ///< a policy line has no '='
    empty_name,            ///< a policy line starts with '='
    nul_byte,              ///< NUL anywhere in a policy request
    not_policy_request,    ///< request= is missing or not smtpd_access_policy
    netstring_bad_length,         ///< a netstring length field holds a byte other than a digit or the ':' after it
    netstring_empty_length,       ///< a netstring starts with ':' (no length digits)
    netstring_length_too_long,    ///< more than max_netstring_length_digits length digits
    netstring_too_long,           ///< a netstring length above the decoder's max_payload
    netstring_missing_comma,      ///< the byte after a netstring payload is not ','
    socketmap_bad_map_name,       ///< socketmap map name empty or not [A-Za-z0-9_.-]
    socketmap_empty_key,          ///< socketmap request without a space, or nothing after it
    socketmap_nul_in_key,         ///< NUL byte in a socketmap key
    smtp_bad_code,                ///< an SMTP reply line does not start with three digits, the first 2-5
    smtp_bad_separator,           ///< an SMTP reply code is followed by a byte other than ' ', '-' or the line end
    smtp_code_mismatch,           ///< an SMTP reply line repeats a code other than the first line's
    smtp_line_too_long,           ///< an SMTP reply line is longer than max_smtp_reply_line_bytes
    smtp_too_many_lines,          ///< an SMTP reply goes on past max_smtp_reply_lines lines
    smtp_reply_too_long,          ///< an SMTP reply is longer than max_smtp_reply_bytes
    http_head_too_long,           ///< an HTTP request head is longer than max_http_head_bytes
    http_too_many_fields,         ///< an HTTP request head has more than max_http_header_fields fields
    http_bad_request_line,        ///< an HTTP request line is not "METHOD SP TARGET SP HTTP/1.x"
    http_bad_field,               ///< an HTTP header line is not "name: value" (or holds CR, NUL, controls)
};

const std::error_category& proto_category() noexcept;
std::error_code make_error_code(proto_errc e) noexcept;

}  // namespace mxw::proto

template <>
struct std::is_error_code_enum<mxw::proto::proto_errc> : std::true_type {};
