// proto/policy_reply.hpp: the client side of the Postfix policy delegation
// protocol, as the milter speaks it to mxwardend: the reply decoder and the
// classification of the action text.
//
// Grammar (SMTPD_POLICY_README): reply = *( name "=" value LF ) LF, with an
// "action" attribute; the action text follows access(5): "4NN text",
// "5NN text", REJECT, DEFER, DEFER_IF_PERMIT, DEFER_IF_REJECT, OK, DUNNO,
// PREPEND, FILTER, DISCARD, HOLD, WARN, ... (keywords case-blind, an
// optional RFC 3463 enhanced code at the start of the text). Limits are the
// request's (proto/limits.hpp): a reply is no bigger than a request. Pure
// code: no sockets, no logging, no clock.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

#include "proto/attr_lines.hpp"
#include "proto/step.hpp"

namespace mxw::proto {

/// Incremental decoder for the replies on one connection.
class policy_reply_decoder {
public:
    /// Consumes a prefix of `in`. step::frame when a reply is complete
    /// (action() is then valid until the next feed()); step::error with
    /// error() set on malformed or oversized input (the connection is beyond
    /// repair); else step::need_more. A reply without an action attribute is
    /// a frame with an empty action: parse_policy_action() calls it invalid.
    [[nodiscard]] step feed(std::string_view in) noexcept;
    [[nodiscard]] std::size_t consumed() const noexcept { return lines_.consumed(); }
    [[nodiscard]] const std::string& action() const noexcept { return action_; }
    [[nodiscard]] std::error_code error() const noexcept { return ec_; }

private:
    step finish_line(std::string_view line) noexcept;
    step fail(std::error_code ec) noexcept;

    std::string action_;
    attr_lines lines_;
    std::size_t attributes_ = 0;
    bool frame_done_ = false;  // last feed() ended a frame: start afresh
    std::error_code ec_;
};

/// An action text taken apart. `code` and `enhanced` are set for reject and
/// defer only (enhanced may be empty); `text` is the reply text (reject,
/// defer), the header line (prepend), "transport:nexthop" (filter), the
/// optional text (discard, hold, warn), or the whole action (unsupported).
struct policy_action {
    enum class kind {
        dunno,        ///< DUNNO, and DEFER_IF_REJECT (nothing after the daemon rejects)
        ok,           ///< OK: accepted by this check
        reject,       ///< 5NN text, REJECT [text]
        defer,        ///< 4NN text, DEFER [text], DEFER_IF_PERMIT [text]
        prepend,      ///< PREPEND header: value
        filter,       ///< FILTER transport:nexthop
        discard,      ///< DISCARD [text]
        hold,         ///< HOLD [text]
        warn,         ///< WARN text
        unsupported,  ///< well-formed for Postfix but not a verdict (REDIRECT, BCC, restriction names)
        invalid,      ///< empty, or a keyword missing what it needs
    } what = kind::invalid;
    std::string code;
    std::string enhanced;
    std::string text;
    bool operator==(const policy_action&) const = default;
};

/// Classifies one action text. Defaults follow Postfix's own: REJECT is
/// 554 5.7.1 (access_map_reject_code), DEFER and DEFER_IF_PERMIT 450 4.7.1
/// (access_map_defer_code); an enhanced code is taken from the text only
/// when its class matches the reply code's first digit.
policy_action parse_policy_action(std::string_view action);

}  // namespace mxw::proto
