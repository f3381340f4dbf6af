#include "proto/sanitize.hpp"

namespace mxw::proto {

std::string sanitize(std::string_view in, std::size_t max)
{
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    std::size_t n = in.size() < max ? in.size() : max;
    out.reserve(n + 8);
    for (std::size_t i = 0; i < n; ++i) {
        auto c = static_cast<unsigned char>(in[i]);
        if (c == '\\' || c == '"') {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
        } else if (c >= 0x20 && c < 0x7f) {
            out.push_back(static_cast<char>(c));
        } else {
            out.append("\\x");
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0xf]);
        }
    }
    if (n < in.size())
        out.append("...");
    return out;
}

std::string log_value(std::string_view in, std::size_t max)
{
    std::string s = sanitize(in, max);
    if (s.empty() || s.find_first_of(" =") != std::string::npos || s.find('"') != std::string::npos)
        return '"' + s + '"';
    return s;
}

std::string to_lower(std::string_view in)
{
    std::string out(in);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    return out;
}

}  // namespace mxw::proto
