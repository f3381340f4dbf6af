// engine/sender_check.hpp: can the sender domain receive mail (seed 003)?
// MX first; null MX (RFC 7505) is final; no MX falls back to A/AAAA (the
// implicit MX of RFC 5321 §5.1). No I/O of its own: all DNS goes through the
// resolver, so every outcome is unit-tested with a scripted one.
#pragma once
#include "dns/resolver.hpp"
#include "engine/verdict.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace mxw::engine {

/// The domain of an envelope sender, lower case, without a trailing dot.
/// nullopt for the null sender "<>" (bounces are never checked), for an
/// address without '@', and for address literals ("user@[192.0.2.1]").
std::optional<std::string> sender_domain(std::string_view sender);

/// Runs the lookups for `domain`; each ends by `deadline` at the latest.
/// `domain` must outlive the returned awaitable (co_await it at once).
asio::awaitable<finding> check_sender_domain(dns::resolver& r, const std::string& domain,
                                             dns::clock::time_point deadline);

}  // namespace mxw::engine
