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
};

const std::error_category& proto_category() noexcept;
std::error_code make_error_code(proto_errc e) noexcept;

}  // namespace mxw::proto

template <>
struct std::is_error_code_enum<mxw::proto::proto_errc> : std::true_type {};
