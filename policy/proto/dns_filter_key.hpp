// proto/dns_filter_key.hpp: the key Postfix's smtp_dns_reply_filter sends
// through the `dnsfilter` socketmap, one resource record in text (Postfix
// dns_strrecord(), postconf(5) smtp_dns_reply_filter):
//   key   = owner SP ttl SP "IN" SP type [SP preference] SP value
//   e.g.  "example.com. 300 IN MX 10 mx1.example.com."
//         "mx1.example.com. 300 IN A 192.0.2.1"
// Single spaces, printable ASCII, names fully qualified with their final
// dot; at most max_dns_filter_key_bytes. Pure: no I/O, no DNS.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mxw::proto {

enum class dns_filter_type { a, aaaa, mx, tlsa, other };

struct dns_filter_record {
    std::string owner;  ///< lower case, without the final dot; the root is ""
    std::uint32_t ttl = 0;
    dns_filter_type type = dns_filter_type::other;
    std::uint16_t preference = 0;  ///< MX only
    /// A/AAAA: the address in canonical text (canonical_address). MX: the
    /// exchange, lower case, without the final dot; "" for the null MX
    /// target ".". TLSA and other types: "" (their data is never looked at).
    std::string value;
    bool operator==(const dns_filter_record&) const = default;
};

/// nullopt when `key` is longer than max_dns_filter_key_bytes, holds a byte
/// outside printable ASCII or two spaces in a row, has a class other than
/// IN, a TTL beyond 2^32-1, a name without its final dot, an empty label or
/// a name over max_dns_name_bytes; or when an MX has no preference 0-65535
/// and exchange name, or an A (AAAA) record no IPv4 (IPv6) address, or
/// either has more fields. TLSA and other types need only owner, TTL, class
/// and type; whatever follows them is not examined.
std::optional<dns_filter_record> parse_dns_filter_key(std::string_view key);

}  // namespace mxw::proto
