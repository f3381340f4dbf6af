#include "proto/message_headers.hpp"

#include "proto/limits.hpp"
#include "proto/sanitize.hpp"

namespace mxw::proto {
namespace {

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

// Calls `on_field(name, value)` for each field; stops when it returns false.
template <class F>
void for_each_field(std::string_view message, F&& on_field)
{
    std::string_view section = message.substr(0, max_header_section_bytes);
    std::string name;
    std::string value;
    bool open = false;
    auto flush = [&]() {
        bool go_on = !open || on_field(name, std::string(trim(value)));
        open = false;
        return go_on;
    };
    while (!section.empty()) {
        auto eol = section.find('\n');
        std::string_view line = section.substr(0, eol);
        section = eol == std::string_view::npos ? std::string_view() : section.substr(eol + 1);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (line.empty())
            break;  // end of the header section
        if (line.front() == ' ' || line.front() == '\t') {
            if (open) {
                value.push_back(' ');
                value.append(trim(line));
            }
            continue;
        }
        if (!flush())
            return;
        auto colon = line.find(':');
        // A name trimmed to nothing ("\r: x" once the CR is cut as a
        // blank) is no field either: RFC 5322 §3.6.8 wants one printable
        // byte at least.
        std::string_view field_name = colon == std::string_view::npos ? std::string_view() : trim(line.substr(0, colon));
        if (field_name.empty())
            continue;  // not a field (an mbox "From " line, garbage)
        name.assign(field_name);
        value.assign(line.substr(colon + 1));
        open = true;
    }
    flush();
}

}  // namespace

std::vector<header_field> parse_header_fields(std::string_view message, std::size_t max_fields)
{
    std::vector<header_field> out;
    if (max_fields == 0)
        return out;
    for_each_field(message, [&](const std::string& n, std::string v) {
        out.push_back({n, std::move(v)});
        return out.size() < max_fields;
    });
    return out;
}

std::optional<std::string> find_header(std::string_view message, std::string_view name)
{
    std::optional<std::string> found;
    std::string want = to_lower(name);
    for_each_field(message, [&](const std::string& n, std::string v) {
        if (to_lower(n) != want)
            return true;
        found = std::move(v);
        return false;
    });
    return found;
}

}  // namespace mxw::proto
