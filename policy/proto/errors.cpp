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
