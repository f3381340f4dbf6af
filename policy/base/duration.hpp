// base/duration.hpp: "500ms", "4s", "5m", "1h", "30d"; a bare number is
// seconds. Pure.
#pragma once
#include <chrono>
#include <optional>
#include <string_view>

namespace mxw::base {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view s);

}  // namespace mxw::base
