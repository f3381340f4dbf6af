// proto/endpoint.hpp: listener and client addresses in Postfix's notation,
// "inet:HOST:PORT" ("inet:[::1]:10040" for IPv6) or "unix:PATH". Pure.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mxw::proto {

struct endpoint {
    enum class kind { inet, unix_socket } type = kind::inet;
    std::string host;   ///< IP literal (inet)
    std::uint16_t port = 0;
    std::string path;   ///< unix
    bool operator==(const endpoint&) const = default;
};

/// nullopt unless HOST is an IP literal and PORT is 1-65535, or PATH is non-empty.
std::optional<endpoint> parse_endpoint(std::string_view s);
std::string to_string(const endpoint& e);

/// "IP[@port]" as libunbound's ub_ctx_set_fwd takes it; true if well-formed.
bool valid_forwarder(std::string_view s);

}  // namespace mxw::proto
