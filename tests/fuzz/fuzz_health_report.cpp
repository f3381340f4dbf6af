// Fuzz target for proto/health_report: the answer to the control verb
// `health`, read by the CLI and by mxwarden-web.
//
// Input: a whole answer as the daemon (or anything on its socket) might
// send it.
// Invariants: nothing over max_health_report_bytes decodes; a decoded
// report is within every cap; encoding it gives text within the cap that
// decodes to the same report.
#include "proto/health_report.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

namespace proto = mxw::proto;

// Fuzz builds define NDEBUG in release modes, so invariants abort explicitly.
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
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto r = proto::decode_health_report(text);
    if (!r)
        return 0;
    require(text.size() <= proto::max_health_report_bytes, "nothing over the cap decodes");
    require(r->hosts.size() <= proto::max_health_hosts, "hosts within the cap");
    require(r->failing.size() <= proto::max_health_failing, "failing destinations within the cap");
    require(r->activity.size() <= proto::max_health_buckets, "buckets within the cap");
    for (const auto& h : r->hosts) {
        require(h.names.size() <= proto::max_health_names, "names within the cap");
        require(h.address.size() <= proto::max_health_address_bytes, "address within the cap");
    }
    std::string wire = proto::encode_health_report(*r);
    require(wire.size() <= proto::max_health_report_bytes, "the encoding fits the cap");
    auto again = proto::decode_health_report(wire);
    require(again.has_value() && *again == *r, "the encoding decodes to the same report");
    return 0;
}
