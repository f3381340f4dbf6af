#include "dns/resolver.hpp"

namespace mxw::dns {

std::string_view to_string(status s) noexcept
{
    switch (s) {
    case status::ok: return "ok";
    case status::nodata: return "nodata";
    case status::nxdomain: return "nxdomain";
    case status::servfail: return "servfail";
    case status::timeout: return "timeout";
    case status::bogus: return "bogus";
    }
    return "?";
}

std::string_view to_string(rrtype t) noexcept
{
    switch (t) {
    case rrtype::a: return "A";
    case rrtype::ptr: return "PTR";
    case rrtype::mx: return "MX";
    case rrtype::aaaa: return "AAAA";
    }
    return "?";
}

std::string describe(const answer& a)
{
    std::string out;
    out.append(to_string(a.type)).append(" ").append(a.name).append(" ").append(to_string(a.st));
    if (a.st == status::ok || a.st == status::nodata || a.st == status::nxdomain)
        out.append(" ttl=").append(std::to_string(a.ttl));
    if (a.secure)
        out.append(" secure");
    if (!a.mx.empty() || !a.values.empty()) {
        out.append(" [");
        bool first = true;
        for (const auto& m : a.mx) {
            out.append(first ? "" : ", ").append(std::to_string(m.preference)).append(" ");
            out.append(m.exchange.empty() ? "." : m.exchange);
            first = false;
        }
        for (const auto& v : a.values) {
            out.append(first ? "" : ", ").append(v);
            first = false;
        }
        out.append("]");
    }
    if (!a.detail.empty())
        out.append(" (").append(a.detail).append(")");
    return out;
}

}  // namespace mxw::dns
