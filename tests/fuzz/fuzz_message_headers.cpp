// Fuzz target for proto/message_headers: the header fields of a stored
// message, read for `quarantine list` and `show`.
//
// Input layout: byte 0 is max_fields; the rest is the message.
// Invariants: at most max_fields fields, each with a name that is not empty
// and holds no colon or LF, and a value without LF or surrounding blanks;
// fewer fields asked give a prefix of more; names and values together never
// outgrow the header section searched; find_header() finds the value of
// the first field of that name, whatever its case.
#include "proto/limits.hpp"
#include "proto/message_headers.hpp"
#include "proto/sanitize.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace {

using mxw::proto::header_field;
namespace proto = mxw::proto;

// Fuzz builds define NDEBUG in release modes, so invariants abort explicitly.
void require(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

bool blank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    const std::size_t max_fields = data[0];
    std::string_view message(reinterpret_cast<const char*>(data) + 1, size - 1);
    auto fields = proto::parse_header_fields(message, max_fields);
    require(fields.size() <= max_fields, "no more fields than asked for");
    // Every field: max_fields may ask for more than max_header_fields_shown.
    auto all = proto::parse_header_fields(message, std::numeric_limits<std::size_t>::max());
    require(all.size() >= fields.size(), "more fields asked give no fewer");
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < all.size(); ++i) {
        const header_field& f = all[i];
        if (i < fields.size())
            require(fields[i] == f, "fewer fields asked give a prefix");
        require(!f.name.empty(), "a name is not empty");
        require(f.name.find(':') == std::string::npos && f.name.find('\n') == std::string::npos,
                "a name holds no colon or LF");
        require(!blank(f.name.front()) && !blank(f.name.back()), "a name has no surrounding blanks");
        require(f.value.find('\n') == std::string::npos, "a value holds no LF");
        require(f.value.empty() || (!blank(f.value.front()) && !blank(f.value.back()) && f.value.back() != '\r'),
                "a value has no surrounding blanks");
        bytes += f.name.size() + f.value.size();
    }
    require(bytes <= proto::max_header_section_bytes, "fields fit the header section searched");
    // find_header() against the first field of each name; bounded, so a
    // message of many fields stays quick.
    for (std::size_t i = 0; i < all.size() && i < 32; ++i) {
        std::string want = proto::to_lower(all[i].name);
        std::size_t first = 0;
        while (proto::to_lower(all[first].name) != want)
            ++first;
        auto found = proto::find_header(message, all[i].name);
        require(found.has_value() && *found == all[first].value, "find_header finds the first field of a name");
    }
    return 0;
}
