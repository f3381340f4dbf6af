#include "proto/cidr.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace mxw::proto {
namespace {

bool parse_address(const std::string& s, bool& v6, std::array<std::uint8_t, 16>& out)
{
    if (s.find('\0') != std::string::npos)
        return false;
    out.fill(0);
    if (inet_pton(AF_INET, s.c_str(), out.data()) == 1) {
        v6 = false;
        return true;
    }
    if (inet_pton(AF_INET6, s.c_str(), out.data()) == 1) {
        v6 = true;
        return true;
    }
    return false;
}

constexpr std::array<std::uint8_t, 12> mapped_prefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool is_mapped(const std::array<std::uint8_t, 16>& b)
{
    return std::equal(mapped_prefix.begin(), mapped_prefix.end(), b.begin());
}

// ::ffff:a.b.c.d becomes a.b.c.d. A DNS AAAA record may hold a mapped
// address; a peer given one connects to the IPv4 address, so a deny rule
// for that address must catch it (a mail loop through ::ffff:127.0.0.1).
void unmap(bool& v6, std::array<std::uint8_t, 16>& b)
{
    if (!v6 || !is_mapped(b))
        return;
    std::array<std::uint8_t, 16> v4{};
    std::copy(b.begin() + 12, b.end(), v4.begin());
    b = v4;
    v6 = false;
}

}  // namespace

std::optional<cidr> parse_cidr(std::string_view s)
{
    cidr c;
    std::size_t slash = s.find('/');
    if (!parse_address(std::string(s.substr(0, slash)), c.v6, c.bytes))
        return std::nullopt;
    unsigned max = c.v6 ? 128 : 32;
    c.prefix = max;
    if (slash != std::string_view::npos) {
        std::string_view p = s.substr(slash + 1);
        auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), c.prefix);
        if (p.empty() || ec != std::errc() || end != p.data() + p.size() || c.prefix > max)
            return std::nullopt;
    }
    // Only a range wholly inside ::ffff:0:0/96 is an IPv4 range; a wider
    // one (::/0) stays IPv6 and so never swallows all of IPv4.
    if (c.v6 && c.prefix >= 96 && is_mapped(c.bytes)) {
        unmap(c.v6, c.bytes);
        c.prefix -= 96;
    }
    return c;
}

bool cidr::contains(const std::string& address) const
{
    bool is_v6 = false;
    std::array<std::uint8_t, 16> b{};
    if (!parse_address(address, is_v6, b))
        return false;
    unmap(is_v6, b);
    if (is_v6 != v6)
        return false;
    unsigned full = prefix / 8;
    for (unsigned i = 0; i < full; ++i)
        if (b[i] != bytes[i])
            return false;
    unsigned rest = prefix % 8;
    if (rest == 0)
        return true;
    auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (b[full] & mask) == (bytes[full] & mask);
}

}  // namespace mxw::proto
