// proto/sanitize.hpp: make peer-supplied text safe for one-line logs and
// SMTP reply text. Pure; no allocation beyond the returned string.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include "proto/limits.hpp"

namespace mxw::proto {

/// Printable ASCII is kept; backslash, double quote and every other byte
/// become \\, \" and \xHH. Output is cut after `max` input bytes, marked "...".
std::string sanitize(std::string_view in, std::size_t max = max_logged_value_bytes);
/// sanitize() appending to `out`: the log hot path builds one line in place.
void sanitize_into(std::string& out, std::string_view in, std::size_t max = max_logged_value_bytes);

/// A key=value log value: sanitized, and double-quoted when it is empty or
/// holds a space or '=', so a line always splits back into the same pairs.
std::string log_value(std::string_view in, std::size_t max = max_logged_value_bytes);
void log_value_into(std::string& out, std::string_view in, std::size_t max = max_logged_value_bytes);

/// ASCII lower case; DNS names and address domains compare case-blind.
std::string to_lower(std::string_view in);

}  // namespace mxw::proto
