// engine/client_check.hpp: does the client address have a forward-confirmed
// PTR (FCrDNS, seed 003)? Postfix's own verdict is used when it settles the
// question: client_name other than "unknown" means Postfix already found a
// PTR name that resolves back to the address. Otherwise mxwarden resolves
// itself, because the policy protocol does not say whether "unknown" came
// from a temporary or a permanent failure.
#pragma once
#include "dns/resolver.hpp"
#include "engine/verdict.hpp"

#include <string>

namespace mxw::engine {

struct client_info {
    std::string address;              ///< client_address
    std::string client_name;          ///< verified name or "unknown"; empty = not known
    std::string reverse_client_name;  ///< PTR name or "unknown"; empty = not known
};

/// True when Postfix's attributes alone decide the check (no DNS needed).
bool settled_by_postfix(const client_info& c) noexcept;

/// The finding when settled_by_postfix(c) holds.
finding verified_by_postfix(const client_info& c);

/// `c` must outlive the returned awaitable (co_await it at once). Reference
/// parameters, not copies: g++ 12 destroys by-value coroutine arguments built
/// from temporaries twice.
asio::awaitable<finding> check_client_ptr(dns::resolver& r, const client_info& c, dns::clock::time_point deadline);

}  // namespace mxw::engine
