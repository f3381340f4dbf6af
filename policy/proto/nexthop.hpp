// proto/nexthop.hpp: a smart host as an admin writes it, "relay.example.net",
// "relay.example.net:587", "[relay.example.net]:587", "192.0.2.7:25" or
// "[2001:db8::7]:587" (an IPv6 address needs the brackets when a port
// follows). Postfix's brackets mean "no MX lookup"; a smart host is never
// looked up by MX here either, so they are accepted and dropped. Pure.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mxw::proto {

struct smarthost {
    std::string host;  ///< lower-case host name, or a canonical IP literal
    std::uint16_t port = 25;
    bool operator==(const smarthost&) const = default;
};

/// nullopt unless the host is an IP literal or a syntactically valid DNS
/// name (labels of 1-63 letters, digits, '-' or '_', 253 characters at
/// most) and the port, if given, is 1-65535.
std::optional<smarthost> parse_smarthost(std::string_view s);

}  // namespace mxw::proto
