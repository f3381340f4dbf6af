// Fuzz target for proto/dns_filter_key: the resource records Postfix's
// smtp_dns_reply_filter sends to the dnsfilter map.
//
// Invariants: an accepted key is within max_dns_filter_key_bytes; owner and
// MX exchange are lower case, within max_dns_name_bytes, and hold no space
// or byte outside printable ASCII; an A value has no ':' and an AAAA value
// has one (the family is never mixed up); only MX records carry a
// preference, and TLSA or other records carry no value.
#include "proto/dns_filter_key.hpp"
#include "proto/limits.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

// Fuzz builds define NDEBUG in release modes, so invariants abort explicitly.
void require(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

bool clean_name(const std::string& n)
{
    if (n.size() > mxw::proto::max_dns_name_bytes)
        return false;
    for (char c : n)
        if (c <= ' ' || c > '~' || (c >= 'A' && c <= 'Z'))
            return false;
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using mxw::proto::dns_filter_type;
    std::string_view in(reinterpret_cast<const char*>(data), size);
    auto r = mxw::proto::parse_dns_filter_key(in);
    if (!r)
        return 0;
    require(in.size() <= mxw::proto::max_dns_filter_key_bytes, "an accepted key is within the cap");
    require(clean_name(r->owner), "the owner is a clean lower-case name");
    switch (r->type) {
    case dns_filter_type::mx:
        require(clean_name(r->value), "the exchange is a clean lower-case name");
        break;
    case dns_filter_type::a:
        require(!r->value.empty() && r->value.find(':') == std::string::npos, "an A value is an IPv4 address");
        require(r->preference == 0, "only MX has a preference");
        break;
    case dns_filter_type::aaaa:
        require(r->value.find(':') != std::string::npos, "an AAAA value is an IPv6 address");
        require(r->preference == 0, "only MX has a preference");
        break;
    case dns_filter_type::tlsa:
    case dns_filter_type::other:
        require(r->value.empty() && r->preference == 0, "TLSA and other records carry no value");
        break;
    }
    return 0;
}
