// proto/policy_attrs.hpp: Postfix SMTPD policy delegation protocol codec.
//
// Grammar (SMTPD_POLICY_README, "Protocol description"):
//   request = *( name "=" value LF ) LF          reply = "action=" text LF LF
// Names hold no '=', NUL or LF; values hold no NUL or LF. Unknown names are
// ignored, a repeated name keeps its last value (Postfix allows either).
// Limits: proto/limits.hpp. Pure code: no sockets, no logging, no clock. The
// caller feeds bytes as they arrive and writes the encoded reply itself.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

#include "proto/attr_lines.hpp"
#include "proto/step.hpp"

namespace mxw::proto {

/// Attribute names, shared by the daemon, the milter's encoder and the tests.
namespace attr {
inline constexpr std::string_view request = "request";
inline constexpr std::string_view protocol_state = "protocol_state";
inline constexpr std::string_view protocol_name = "protocol_name";
inline constexpr std::string_view helo_name = "helo_name";
inline constexpr std::string_view queue_id = "queue_id";
inline constexpr std::string_view sender = "sender";
inline constexpr std::string_view recipient = "recipient";
inline constexpr std::string_view client_address = "client_address";
inline constexpr std::string_view client_name = "client_name";
inline constexpr std::string_view reverse_client_name = "reverse_client_name";
inline constexpr std::string_view instance = "instance";
inline constexpr std::string_view access_policy = "smtpd_access_policy";
}  // namespace attr

/// The attributes mxwarden acts on; everything else Postfix sends is skipped.
struct policy_request {
    std::string protocol_state;
    std::string protocol_name;
    std::string helo_name;
    std::string queue_id;
    std::string sender;
    std::string recipient;
    std::string client_address;
    std::string client_name;          ///< verified name, or "unknown"
    std::string reverse_client_name;  ///< PTR name without forward check, or "unknown"
    std::string instance;

    /// Empties every field but keeps capacity, so a long-lived session
    /// decodes request after request without allocating.
    void clear() noexcept;
    bool operator==(const policy_request&) const = default;
};

/// Incremental decoder for one connection. feed() may be called with any
/// split of the byte stream, down to one byte at a time.
class policy_decoder {
public:
    /// Consumes a prefix of `in`. Returns step::frame when a request is
    /// complete (request() is then valid until the next feed()), step::error
    /// with error() set on malformed or oversized input (the connection is
    /// beyond repair: the caller disconnects), else step::need_more.
    /// consumed() tells how much of `in` was used; the rest belongs to the
    /// next request.
    [[nodiscard]] step feed(std::string_view in) noexcept;
    [[nodiscard]] std::size_t consumed() const noexcept { return lines_.consumed(); }
    [[nodiscard]] const policy_request& request() const noexcept { return req_; }
    [[nodiscard]] std::error_code error() const noexcept { return ec_; }

private:
    step finish_line(std::string_view line) noexcept;
    step fail(std::error_code ec) noexcept;

    policy_request req_;
    attr_lines lines_;
    std::size_t attributes_ = 0;
    bool saw_request_attr_ = false;
    bool frame_done_ = false;   // last feed() ended a frame: start afresh
    std::error_code ec_;
};

/// Encodes a request as Postfix would send it, minus empty attributes (used
/// by the milter and tests).
/// Fields holding LF or NUL are the caller's bug; they are replaced by '?'.
std::string encode_policy_request(const policy_request& req);

/// Encodes "action=<text>\n\n". CR, LF and NUL in `action` become spaces, so
/// the reply can never be split into two by peer-derived text.
std::string encode_policy_reply(std::string_view action);

}  // namespace mxw::proto
