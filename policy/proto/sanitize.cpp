#include "proto/sanitize.hpp"

namespace mxw::proto {

namespace {

bool plain_byte(unsigned char c) noexcept { return c >= 0x20 && c < 0x7f && c != '\\' && c != '"'; }

}  // namespace

void sanitize_into(std::string& out, std::string_view in, std::size_t max)
{
    static constexpr char hex[] = "0123456789abcdef";
    std::size_t n = in.size() < max ? in.size() : max;
    std::size_t i = 0;
    while (i < n) {
        // Copy runs of harmless bytes at once; they are nearly all there is.
        std::size_t run = i;
        while (run < n && plain_byte(static_cast<unsigned char>(in[run])))
            ++run;
        out.append(in.data() + i, run - i);
        if (run == n)
            break;
        auto c = static_cast<unsigned char>(in[run]);
        if (c == '\\' || c == '"') {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
        } else {
            out.append("\\x");
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0xf]);
        }
        i = run + 1;
    }
    if (n < in.size())
        out.append("...");
}

std::string sanitize(std::string_view in, std::size_t max)
{
    std::string out;
    out.reserve(in.size() < max ? in.size() + 8 : max + 8);
    sanitize_into(out, in, max);
    return out;
}

void log_value_into(std::string& out, std::string_view in, std::size_t max)
{
    bool quote = in.empty() || in.find_first_of(" =\"") != std::string_view::npos;
    if (!quote) {
        // Escapes never add a space or '=': only a quote in the input forces
        // quoting, and that was checked above.
        sanitize_into(out, in, max);
        return;
    }
    out.push_back('"');
    sanitize_into(out, in, max);
    out.push_back('"');
}

std::string log_value(std::string_view in, std::size_t max)
{
    std::string out;
    log_value_into(out, in, max);
    return out;
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
