#include "proto/http_target.hpp"

namespace mxw::proto {
namespace {

int hex_value(char c) noexcept
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool is_control(unsigned char c) noexcept { return c < 0x20 || c == 0x7f; }

}  // namespace

target_check parse_target(std::string_view raw, http_target& out)
{
    if (raw.size() > max_http_target_bytes)
        return target_check::too_long;
    // Origin-form only: a proxy's absolute-form or OPTIONS' "*" has no page
    // here. A raw space, control or non-ASCII byte is no URI character at
    // all (RFC 3986 §2); browsers always escape them.
    if (raw.empty() || raw.front() != '/')
        return target_check::not_origin_form;
    for (char ch : raw) {
        auto c = static_cast<unsigned char>(ch);
        if (is_control(c) || c == ' ' || c >= 0x80 || c == '#')
            return target_check::not_origin_form;
    }
    std::string_view raw_path = raw;
    std::string_view query;
    if (auto q = raw.find('?'); q != std::string_view::npos) {
        raw_path = raw.substr(0, q);
        query = raw.substr(q + 1);
    }
    std::string path;
    path.reserve(raw_path.size());
    for (std::size_t i = 0; i < raw_path.size(); ++i) {
        if (raw_path[i] != '%') {
            path += raw_path[i];
            continue;
        }
        int hi = i + 2 < raw_path.size() ? hex_value(raw_path[i + 1]) : -1;
        int lo = hi >= 0 ? hex_value(raw_path[i + 2]) : -1;
        if (lo < 0)
            return target_check::bad_escape;
        path += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    // Checked after decoding, so "%2e%2e" and "%5c" are caught like their
    // plain forms; "//" because a path that starts with it reads as a host
    // name once it lands in a Location header.
    if (path.find("..") != std::string::npos || path.find("//") != std::string::npos ||
        path.find('\\') != std::string::npos)
        return target_check::unsafe_path;
    for (char ch : path)
        if (is_control(static_cast<unsigned char>(ch)))
            return target_check::unsafe_path;
    out.path = std::move(path);
    out.query = std::string(query);
    return target_check::ok;
}

}  // namespace mxw::proto
