#include "proto/errors.hpp"

#include <string>

namespace mxw::proto {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "mxw.proto"; }
    std::string message(int ev) const override
    {
        switch (static_cast<proto_errc>(ev)) {
        case proto_errc::line_too_long: return "policy line too long";
        case proto_errc::request_too_long: return "policy request too long";
        case proto_errc::too_many_attributes: return "too many policy attributes";
        case proto_errc::missing_equals: return "policy line without '='";
        case proto_errc::empty_name: return "policy attribute with empty name";
        case proto_errc::nul_byte: return "NUL byte in policy request";
        case proto_errc::not_policy_request: return "not a smtpd_access_policy request";
        case proto_errc::netstring_bad_length: return "netstring length is not digits followed by ':'";
        case proto_errc::netstring_empty_length: return "netstring without length digits";
        case proto_errc::netstring_length_too_long: return "netstring length has too many digits";
        case proto_errc::netstring_too_long: return "netstring longer than allowed";
        case proto_errc::netstring_missing_comma: return "netstring not terminated by ','";
        case proto_errc::socketmap_bad_map_name: return "socketmap map name empty or invalid";
        case proto_errc::socketmap_empty_key: return "socketmap request without key";
        case proto_errc::socketmap_nul_in_key: return "NUL byte in socketmap key";
        case proto_errc::smtp_bad_code: return "SMTP reply line without a 2xx-5xx code";
        case proto_errc::smtp_bad_separator: return "SMTP reply code not followed by space, '-' or line end";
        case proto_errc::smtp_code_mismatch: return "SMTP reply lines with different codes";
        case proto_errc::smtp_line_too_long: return "SMTP reply line too long";
        case proto_errc::smtp_too_many_lines: return "SMTP reply has too many lines";
        case proto_errc::smtp_reply_too_long: return "SMTP reply too long";
        case proto_errc::http_head_too_long: return "HTTP request head too long";
        case proto_errc::http_too_many_fields: return "HTTP request has too many header fields";
        case proto_errc::http_bad_request_line: return "malformed HTTP request line";
        case proto_errc::http_bad_field: return "malformed HTTP header field";
        }
        return "unknown protocol error";
    }
};

}  // namespace

const std::error_category& proto_category() noexcept
{
    static const category instance;
    return instance;
}

std::error_code make_error_code(proto_errc e) noexcept { return {static_cast<int>(e), proto_category()}; }

}  // namespace mxw::proto
