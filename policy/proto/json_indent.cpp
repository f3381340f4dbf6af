#include "proto/json_indent.hpp"

#include <string>

namespace mxw::proto {

std::optional<std::string> indent_json(std::string_view json)
{
    std::string out;
    std::string open;  // the brackets still open, innermost last
    bool in_string = false;
    bool escaped = false;
    bool done = false;
    auto newline = [&]() {
        out.push_back('\n');
        out.append(2 * open.size(), ' ');
    };
    for (std::size_t i = 0; i < json.size(); ++i) {
        char c = json[i];
        if (in_string) {
            out.push_back(c);
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (done || (open.empty() && c != '{' && c != '['))
            return std::nullopt;
        switch (c) {
        case '"':
            in_string = true;
            out.push_back(c);
            break;
        case '{':
        case '[': {
            out.push_back(c);
            open.push_back(c == '{' ? '}' : ']');
            // Keep empty containers on one line.
            std::size_t j = i + 1;
            while (j < json.size() && (json[j] == ' ' || json[j] == '\t' || json[j] == '\r' || json[j] == '\n'))
                ++j;
            if (j < json.size() && json[j] == open.back()) {
                out.push_back(json[j]);
                open.pop_back();
                i = j;
                done = open.empty();
            } else {
                newline();
            }
            break;
        }
        case '}':
        case ']':
            if (open.empty() || open.back() != c)
                return std::nullopt;
            open.pop_back();
            newline();
            out.push_back(c);
            done = open.empty();
            break;
        case ',':
            out.push_back(c);
            newline();
            break;
        case ':':
            out.append(": ");
            break;
        default: out.push_back(c);
        }
    }
    if (in_string || !open.empty() || !done)
        return std::nullopt;
    return out;
}

}  // namespace mxw::proto
