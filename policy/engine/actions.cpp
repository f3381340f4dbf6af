#include "engine/verdict.hpp"

#include "proto/sanitize.hpp"

namespace mxw::engine {

std::optional<action> parse_action(std::string_view s) noexcept
{
    if (s == "ignore") return action::ignore;
    if (s == "tag") return action::tag;
    if (s == "quarantine") return action::quarantine;
    if (s == "defer") return action::defer;
    if (s == "reject") return action::reject;
    return std::nullopt;
}

std::string_view to_string(action a) noexcept
{
    switch (a) {
    case action::ignore: return "ignore";
    case action::tag: return "tag";
    case action::quarantine: return "quarantine";
    case action::defer: return "defer";
    case action::reject: return "reject";
    }
    return "?";
}

std::string_view to_string(check_kind k) noexcept { return k == check_kind::sender ? "sender" : "client"; }

std::string_view to_string(outcome o) noexcept
{
    switch (o) {
    case outcome::ok: return "ok";
    case outcome::skipped: return "skipped";
    case outcome::null_mx: return "null-mx";
    case outcome::no_domain: return "no-domain";
    case outcome::sender_tempfail: return "tempfail";
    case outcome::no_ptr: return "no-ptr";
    case outcome::not_confirmed: return "not-confirmed";
    case outcome::client_tempfail: return "tempfail";
    }
    return "?";
}

}  // namespace mxw::engine

namespace mxw::engine {

std::string explain(const finding& f)
{
    // The subject comes from the SMTP client; it ends up in reply text.
    const std::string s = proto::sanitize(f.subject);
    switch (f.result) {
    case outcome::ok: return f.check == check_kind::sender ? "sender domain " + s + " can receive mail"
                                                           : "client address " + s + " has a forward-confirmed PTR";
    case outcome::skipped: return std::string(to_string(f.check)) + " check does not apply";
    case outcome::null_mx: return "sender domain " + s + " does not accept mail (null MX, RFC 7505)";
    case outcome::no_domain: return "sender domain " + s + " does not exist or has no MX or address records";
    case outcome::sender_tempfail: return "cannot verify sender domain " + s + " now (DNS failure), try again later";
    case outcome::no_ptr: return "client address " + s + " has no PTR record";
    case outcome::not_confirmed: return "PTR name of client address " + s + " does not resolve back to it";
    case outcome::client_tempfail: return "cannot verify the PTR of " + s + " now (DNS failure), try again later";
    }
    return "?";
}

}  // namespace mxw::engine
