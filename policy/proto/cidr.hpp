// proto/cidr.hpp: address ranges ("127.0.0.0/8", "fe80::/10", or a single
// address) for routing.deny-addresses. Pure. An IPv4-mapped IPv6 address
// (::ffff:127.0.0.1, RFC 4291 §2.5.5.2) is the IPv4 address it maps, on
// both sides: 127.0.0.0/8 contains ::ffff:127.0.0.1, and a range written
// inside ::ffff:0:0/96 is kept as the IPv4 range it covers.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mxw::proto {

struct cidr {
    bool v6 = false;
    std::array<std::uint8_t, 16> bytes{};
    unsigned prefix = 0;
    /// True if the textual address lies inside this range; an IPv4-mapped
    /// address is tested as its IPv4 address.
    [[nodiscard]] bool contains(const std::string& address) const;
};

/// nullopt unless `s` is ADDRESS or ADDRESS/PREFIX with a prefix no longer
/// than the address. A range inside ::ffff:0:0/96 comes back as IPv4
/// (v6 false, prefix less 96).
std::optional<cidr> parse_cidr(std::string_view s);

}  // namespace mxw::proto
