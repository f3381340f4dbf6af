#include "proto/endpoint.hpp"

#include "proto/dns_rdata.hpp"

#include <charconv>

namespace mxw::proto {
namespace {

std::optional<std::uint16_t> parse_port(std::string_view s)
{
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v == 0 || v > 65535)
        return std::nullopt;
    return static_cast<std::uint16_t>(v);
}

}  // namespace

std::optional<endpoint> parse_endpoint(std::string_view s)
{
    endpoint e;
    if (s.starts_with("unix:")) {
        e.type = endpoint::kind::unix_socket;
        e.path = std::string(s.substr(5));
        if (e.path.empty() || e.path.find('\0') != std::string::npos)
            return std::nullopt;
        return e;
    }
    if (!s.starts_with("inet:"))
        return std::nullopt;
    s.remove_prefix(5);
    std::size_t colon = s.rfind(':');
    if (colon == std::string_view::npos)
        return std::nullopt;
    std::string_view host = s.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    auto canon = canonical_address(std::string(host));
    auto port = parse_port(s.substr(colon + 1));
    if (!canon || !port)
        return std::nullopt;
    e.host = *canon;
    e.port = *port;
    return e;
}

std::string to_string(const endpoint& e)
{
    if (e.type == endpoint::kind::unix_socket)
        return "unix:" + e.path;
    bool v6 = e.host.find(':') != std::string::npos;
    return "inet:" + (v6 ? "[" + e.host + "]" : e.host) + ":" + std::to_string(e.port);
}

bool valid_forwarder(std::string_view s)
{
    std::size_t at = s.find('@');
    if (at != std::string_view::npos && !parse_port(s.substr(at + 1)))
        return false;
    return canonical_address(std::string(s.substr(0, at))).has_value();
}

}  // namespace mxw::proto
