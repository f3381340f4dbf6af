// proto/dns_message.hpp: just enough of the DNS message format (RFC 1035
// §4.1, EDNS0 RFC 6891) for `mxwarden doctor` to ask one server one
// question over one transport and see what really comes back: the rcode,
// the TC bit, the answer records, and whether the server spoke EDNS. The
// daemon does its DNS with libunbound and reads only the negative-caching
// TTL of the replies libunbound hands back (dns/unbound_resolver). Pure code.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mxw::proto {

/// A query for `name` (presentation form, no escapes) of type `qtype`,
/// class IN, RD set. With `edns_size` > 0 an OPT record advertises that
/// UDP payload size. nullopt if the name is not a valid host-style name.
std::optional<std::string> encode_dns_query(std::uint16_t id, std::string_view name, std::uint16_t qtype,
                                            std::uint16_t edns_size);

struct dns_record {
    std::string name;  ///< lower case, no trailing dot
    std::uint16_t type = 0;
    std::uint32_t ttl = 0;
    std::string rdata_text;  ///< A/AAAA address, MX "pref exchange", PTR/CNAME/NS name; else "TYPE<n> <len> bytes"
};

struct dns_reply {
    std::uint16_t id = 0;
    std::uint8_t rcode = 0;  ///< extended by the OPT record's high bits when present
    bool truncated = false;
    bool authoritative = false;
    bool recursion_available = false;
    bool has_opt = false;
    std::uint16_t edns_size = 0;  ///< the server's advertised UDP size, if has_opt
    std::vector<dns_record> answers;
    /// RFC 2308 §5: how long a negative answer may be kept, min(SOA TTL,
    /// SOA MINIMUM) of the first SOA in the authority section; nullopt when
    /// the reply has no SOA there (such an answer should not be cached).
    std::optional<std::uint32_t> negative_ttl;
};

/// Parses a whole reply. Names may be compressed (pointers must point
/// backwards, at most max_dns_pointer_hops of them per name). nullopt when
/// anything overruns the message or is malformed. A truncated reply (TC)
/// may stop anywhere after the question: the records seen are kept.
std::optional<dns_reply> parse_dns_reply(std::span<const std::uint8_t> wire);

/// "NOERROR", "SERVFAIL", "NXDOMAIN", "REFUSED", ... or "RCODE<n>".
std::string dns_rcode_name(std::uint8_t rcode);

}  // namespace mxw::proto
