#include "proto/nexthop.hpp"

#include "proto/dns_rdata.hpp"
#include "proto/sanitize.hpp"

#include <charconv>

namespace mxw::proto {
namespace {

bool valid_hostname(std::string_view h)
{
    if (h.empty() || h.size() > 253)
        return false;
    std::size_t label = 0;
    for (std::size_t i = 0; i < h.size(); ++i) {
        char c = h[i];
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
            continue;
        }
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok || ++label > 63)
            return false;
    }
    return label != 0;  // no trailing dot: it would not match the keys Postfix sends
}

std::optional<std::uint16_t> parse_port(std::string_view p)
{
    unsigned v = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (p.empty() || ec != std::errc() || end != p.data() + p.size() || v == 0 || v > 65535 || p.front() == '0')
        return std::nullopt;
    return static_cast<std::uint16_t>(v);
}

}  // namespace

std::optional<smarthost> parse_smarthost(std::string_view s)
{
    std::string_view host = s, port;
    if (!s.empty() && s.front() == '[') {
        auto close = s.find(']');
        if (close == std::string_view::npos)
            return std::nullopt;
        host = s.substr(1, close - 1);
        std::string_view rest = s.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':')
                return std::nullopt;
            port = rest.substr(1);
            if (port.empty())
                return std::nullopt;
        }
    } else if (s.find(':') != s.rfind(':')) {
        host = s;  // a bare IPv6 address: no port possible without brackets
    } else if (auto colon = s.find(':'); colon != std::string_view::npos) {
        host = s.substr(0, colon);
        port = s.substr(colon + 1);
        if (port.empty())
            return std::nullopt;
    }
    smarthost out;
    if (!port.empty()) {
        auto p = parse_port(port);
        if (!p)
            return std::nullopt;
        out.port = *p;
    }
    if (auto ip = canonical_address(std::string(host))) {
        out.host = *ip;
        return out;
    }
    if (host.find(':') != std::string_view::npos || !valid_hostname(host))
        return std::nullopt;
    out.host = to_lower(host);
    return out;
}

}  // namespace mxw::proto
