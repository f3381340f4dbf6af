// Fuzz target for proto/endpoint: listener and forwarder notation from the
// config file and the command line.
//
// Invariants: parse_endpoint -> to_string -> parse_endpoint gives the same
// endpoint and to_string is then stable; an accepted inet host is an IP
// literal, so it holds no NUL (a NUL would cut the text inet_pton sees);
// valid_forwarder never crashes.
#include "proto/endpoint.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view in(reinterpret_cast<const char*>(data), size);
    if (auto e = mxw::proto::parse_endpoint(in)) {
        if (e->type == mxw::proto::endpoint::kind::inet) {
            require(e->port != 0, "an inet port is 1-65535");
            require(in.find('\0') == std::string_view::npos, "an accepted inet endpoint holds no NUL");
        } else {
            require(!e->path.empty(), "a unix path is not empty");
        }
        std::string text = mxw::proto::to_string(*e);
        auto again = mxw::proto::parse_endpoint(text);
        require(again.has_value(), "to_string output parses");
        require(*again == *e, "to_string output parses to the same endpoint");
        require(mxw::proto::to_string(*again) == text, "to_string is stable");
    }
    (void)mxw::proto::valid_forwarder(in);
    return 0;
}
