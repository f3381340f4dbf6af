#include "base/duration.hpp"

#include <charconv>
#include <cstdint>

namespace mxw::base {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view s)
{
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (s.empty() || ec != std::errc() || p == s.data())
        return std::nullopt;
    std::string_view unit(p, static_cast<std::size_t>(s.data() + s.size() - p));
    std::uint64_t ms_per_unit = 0;
    if (unit == "ms") ms_per_unit = 1;
    else if (unit == "s" || unit.empty()) ms_per_unit = 1000;
    else if (unit == "m") ms_per_unit = 60'000;
    else if (unit == "h") ms_per_unit = 3'600'000;
    else if (unit == "d") ms_per_unit = 86'400'000;
    else return std::nullopt;
    // Ten years is more than any timeout or retention needs, and keeps the
    // multiplication far from overflow.
    if (n > 10ull * 365 * 86'400'000 / ms_per_unit)
        return std::nullopt;
    return std::chrono::milliseconds(static_cast<std::int64_t>(n * ms_per_unit));
}

}  // namespace mxw::base
