#include "proto/dns_rdata.hpp"

#include "proto/limits.hpp"

#include <arpa/inet.h>

namespace mxw::proto {
namespace {

bool plain(std::uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

}  // namespace

std::optional<std::string> parse_dns_name(std::span<const std::uint8_t> wire)
{
    std::string out;
    std::size_t pos = 0;
    std::size_t wire_len = 0;
    for (;;) {
        if (pos >= wire.size())
            return std::nullopt;
        std::uint8_t len = wire[pos++];
        ++wire_len;
        if (len == 0)
            break;
        if (len > max_dns_label_bytes)  // also catches 0xC0 compression pointers
            return std::nullopt;
        if (len > wire.size() - pos)
            return std::nullopt;
        wire_len += len;
        // +1: the root label that still has to follow counts too.
        if (wire_len + 1 > max_dns_name_bytes)
            return std::nullopt;
        if (!out.empty())
            out.push_back('.');
        for (std::size_t i = 0; i < len; ++i) {
            std::uint8_t c = wire[pos + i];
            if (c >= 'A' && c <= 'Z')
                c = static_cast<std::uint8_t>(c - 'A' + 'a');
            if (plain(c)) {
                out.push_back(static_cast<char>(c));
            } else {
                out.push_back('\\');
                out.push_back(static_cast<char>('0' + c / 100));
                out.push_back(static_cast<char>('0' + c / 10 % 10));
                out.push_back(static_cast<char>('0' + c % 10));
            }
        }
        pos += len;
    }
    if (pos != wire.size())
        return std::nullopt;
    return out;
}

std::optional<mx_rdata> parse_mx_rdata(std::span<const std::uint8_t> rdata)
{
    if (rdata.size() < 3)
        return std::nullopt;
    auto name = parse_dns_name(rdata.subspan(2));
    if (!name)
        return std::nullopt;
    return mx_rdata{static_cast<std::uint16_t>(rdata[0] << 8 | rdata[1]), std::move(*name)};
}

std::optional<std::string> parse_address_rdata(std::span<const std::uint8_t> rdata)
{
    char buf[INET6_ADDRSTRLEN];
    int family = rdata.size() == 4 ? AF_INET : rdata.size() == 16 ? AF_INET6 : 0;
    if (family == 0 || inet_ntop(family, rdata.data(), buf, sizeof buf) == nullptr)
        return std::nullopt;
    return std::string(buf);
}

std::optional<std::string> reverse_name(const std::string& address)
{
    static constexpr char hex[] = "0123456789abcdef";
    unsigned char b[16];
    std::string out;
    if (address.find('\0') != std::string::npos)  // inet_pton would stop there
        return std::nullopt;
    if (inet_pton(AF_INET, address.c_str(), b) == 1) {
        for (int i = 3; i >= 0; --i)
            out.append(std::to_string(b[i])).push_back('.');
        return out + "in-addr.arpa";
    }
    if (inet_pton(AF_INET6, address.c_str(), b) == 1) {
        for (int i = 15; i >= 0; --i) {
            out.push_back(hex[b[i] & 0xf]);
            out.push_back('.');
            out.push_back(hex[b[i] >> 4]);
            out.push_back('.');
        }
        return out + "ip6.arpa";
    }
    return std::nullopt;
}

std::optional<std::string> canonical_address(const std::string& address)
{
    unsigned char b[16];
    char buf[INET6_ADDRSTRLEN];
    if (address.find('\0') != std::string::npos)  // inet_pton would stop there
        return std::nullopt;
    for (int family : {AF_INET, AF_INET6})
        if (inet_pton(family, address.c_str(), b) == 1 && inet_ntop(family, b, buf, sizeof buf))
            return std::string(buf);
    return std::nullopt;
}

}  // namespace mxw::proto
