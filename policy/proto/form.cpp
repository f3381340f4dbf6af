#include "proto/form.hpp"

namespace mxw::proto {
namespace {

int hex_digit(char c) noexcept
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool unreserved(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

std::string_view trim_spaces(std::string_view s) noexcept
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

}  // namespace

std::optional<std::string> form_decode(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '+') {
            out += ' ';
        } else if (c == '%') {
            if (i + 2 >= s.size())
                return std::nullopt;
            int hi = hex_digit(s[i + 1]);
            int lo = hex_digit(s[i + 2]);
            if (hi < 0 || lo < 0)
                return std::nullopt;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

std::optional<form_fields> parse_form(std::string_view s)
{
    if (s.size() > max_form_bytes)
        return std::nullopt;
    form_fields out;
    while (!s.empty()) {
        auto amp = s.find('&');
        std::string_view field = s.substr(0, amp);
        s = amp == std::string_view::npos ? std::string_view{} : s.substr(amp + 1);
        if (field.empty())
            continue;
        if (out.size() == max_form_fields)
            return std::nullopt;
        auto eq = field.find('=');
        auto name = form_decode(field.substr(0, eq));
        auto value = form_decode(eq == std::string_view::npos ? std::string_view{} : field.substr(eq + 1));
        if (!name || !value)
            return std::nullopt;
        out.emplace_back(std::move(*name), std::move(*value));
    }
    return out;
}

std::optional<std::string> form_value(const form_fields& f, std::string_view name)
{
    for (const auto& [n, v] : f)
        if (n == name)
            return v;
    return std::nullopt;
}

std::vector<std::string> form_values(const form_fields& f, std::string_view name)
{
    std::vector<std::string> out;
    for (const auto& [n, v] : f)
        if (n == name)
            out.push_back(v);
    return out;
}

std::string form_encode(std::string_view s)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        if (unreserved(c)) {
            out += c;
        } else {
            auto b = static_cast<unsigned char>(c);
            out += '%';
            out += hex[b >> 4];
            out += hex[b & 0xf];
        }
    }
    return out;
}

std::optional<form_fields> parse_cookies(std::string_view header)
{
    if (header.size() > max_http_head_bytes)
        return std::nullopt;
    form_fields out;
    while (!header.empty()) {
        auto semi = header.find(';');
        std::string_view piece = trim_spaces(header.substr(0, semi));
        header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
        auto eq = piece.find('=');
        if (eq == std::string_view::npos)
            continue;
        if (out.size() == max_cookies)
            return std::nullopt;
        std::string_view value = trim_spaces(piece.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
            value = value.substr(1, value.size() - 2);
        out.emplace_back(std::string(trim_spaces(piece.substr(0, eq))), std::string(value));
    }
    return out;
}

}  // namespace mxw::proto
