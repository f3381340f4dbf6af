// engine/verdict.hpp: what a check found and what mxwarden does about it.
#pragma once
#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mxw::engine {

/// Configured reaction to an outcome, ordered by severity so the most severe
/// of several findings decides the reply.
enum class action { ignore, tag, quarantine, defer, reject };
std::optional<action> parse_action(std::string_view s) noexcept;
std::string_view to_string(action a) noexcept;

enum class check_kind { sender, client };
std::string_view to_string(check_kind k) noexcept;

enum class outcome {
    ok,               ///< nothing wrong
    skipped,          ///< not applicable (empty sender, address literal, no client address)
    null_mx,          ///< sender domain publishes RFC 7505 null MX
    no_domain,        ///< sender domain NXDOMAIN, or no MX/A/AAAA
    sender_tempfail,  ///< sender domain lookups failed temporarily
    no_ptr,           ///< client address has no PTR
    not_confirmed,    ///< no PTR name resolves back to the client address
    client_tempfail,  ///< PTR or forward lookups failed temporarily
};
inline constexpr std::size_t outcome_count = 8;
std::string_view to_string(outcome o) noexcept;
constexpr bool is_problem(outcome o) noexcept { return o != outcome::ok && o != outcome::skipped; }
/// DNS could not answer the check (yet).
constexpr bool is_tempfail(outcome o) noexcept
{
    return o == outcome::sender_tempfail || o == outcome::client_tempfail;
}

/// Actions per outcome; ok and skipped are always ignore.
using action_table = std::array<action, outcome_count>;

struct finding {
    check_kind check = check_kind::sender;
    outcome result = outcome::skipped;
    std::string subject;   ///< the sender domain or client address
    std::string evidence;  ///< DNS lookups, "; "-separated (dns::describe)
    std::chrono::seconds ttl{0};  ///< how long the finding may be reused
};

/// One sentence for SMTP replies and reports, e.g. "sender domain x.example
/// does not accept mail (null MX, RFC 7505)". Built on demand so cached
/// findings stay small.
std::string explain(const finding& f);

}  // namespace mxw::engine
