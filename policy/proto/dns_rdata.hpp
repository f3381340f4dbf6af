// proto/dns_rdata.hpp: decode the RDATA libunbound hands back (ub_result.data,
// without the RDLENGTH prefix). Names inside RDATA arrive uncompressed
// (RFC 3597 §4 for MX/PTR in answers given to stub clients by libunbound);
// a compression pointer is therefore rejected as malformed. Pure code.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace mxw::proto {

/// Wire-format name -> presentation form without the trailing dot, lower
/// case; the root is "". Bytes outside [a-z0-9-_] are written as \DDD
/// (RFC 1035 §5.1). nullopt when labels overrun the data, exceed 63 bytes,
/// the name exceeds 255 bytes, a pointer appears, or bytes trail the name.
std::optional<std::string> parse_dns_name(std::span<const std::uint8_t> wire);

struct mx_rdata {
    std::uint16_t preference = 0;
    std::string exchange;  ///< "" for the null MX target "."
    bool operator==(const mx_rdata&) const = default;
};
std::optional<mx_rdata> parse_mx_rdata(std::span<const std::uint8_t> rdata);

/// A (4 bytes) or AAAA (16 bytes) as text; nullopt on a wrong length.
std::optional<std::string> parse_address_rdata(std::span<const std::uint8_t> rdata);

/// The reverse-lookup name for a textual IPv4 or IPv6 address
/// ("192.0.2.7" -> "7.2.0.192.in-addr.arpa"); nullopt if it is no address.
std::optional<std::string> reverse_name(const std::string& address);

/// The address in canonical text form (inet_pton then inet_ntop), so
/// "::FFFF:1.2.3.4" and "::ffff:1.2.3.4" compare equal; nullopt if invalid.
std::optional<std::string> canonical_address(const std::string& address);

}  // namespace mxw::proto
