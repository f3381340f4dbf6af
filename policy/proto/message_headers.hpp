// proto/message_headers.hpp: the header fields of a stored message, for
// listing (Subject, From, Message-ID) and `quarantine show`. RFC 5322 §2.2:
// "name: value" lines up to the first empty line, a line starting with a
// space or tab continues the field above (unfolded here into one space).
// Lenient, because quarantined mail is whatever the MTA accepted: CRLF or LF
// line ends, lines without a colon are skipped, 8-bit bytes are kept.
// Searches at most max_header_section_bytes. Pure.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mxw::proto {

struct header_field {
    std::string name;   ///< as written
    std::string value;  ///< unfolded, leading and trailing blanks removed
    bool operator==(const header_field&) const = default;
};

/// The first `max_fields` header fields of `message`, in order.
std::vector<header_field> parse_header_fields(std::string_view message, std::size_t max_fields);

/// The value of the first field named `name` (compared case-blind), or
/// nullopt when the header section has none.
std::optional<std::string> find_header(std::string_view message, std::string_view name);

}  // namespace mxw::proto
