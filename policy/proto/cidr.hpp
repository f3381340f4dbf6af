// proto/cidr.hpp: address ranges ("127.0.0.0/8", "fe80::/10", or a single
// address) for routing.deny-addresses. Pure.
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
    /// True if the textual address lies inside this range.
    [[nodiscard]] bool contains(const std::string& address) const;
};

std::optional<cidr> parse_cidr(std::string_view s);

}  // namespace mxw::proto
