// Fuzz target for proto/http_target: the request target of every request
// mxwarden-web gets, browser- or attacker-controlled.
//
// Invariants: nothing over max_http_target_bytes is accepted; an accepted
// target's path starts with '/', holds no "..", "//", backslash or control
// byte and is no longer than the raw path; the query is the raw text after
// the first '?'; the answer does not depend on what `out` held before.
#include "proto/http_target.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

namespace proto = mxw::proto;

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
    std::string_view raw(reinterpret_cast<const char*>(data), size);
    proto::http_target t;
    auto got = proto::parse_target(raw, t);
    proto::http_target other{"/before", "before"};
    require(proto::parse_target(raw, other) == got, "the same answer twice");
    if (got != proto::target_check::ok) {
        require(other.path == "/before", "a refused target left the output alone");
        return 0;
    }
    require(raw.size() <= proto::max_http_target_bytes, "accepted over the cap");
    require(!t.path.empty() && t.path.front() == '/', "path starts with '/'");
    require(t.path.find("..") == std::string::npos, "no ..");
    require(t.path.find("//") == std::string::npos, "no //");
    require(t.path.find('\\') == std::string::npos, "no backslash");
    for (char c : t.path)
        require(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f, "no control byte");
    auto q = raw.find('?');
    require(t.query == (q == std::string_view::npos ? std::string_view() : raw.substr(q + 1)), "raw query");
    require(t.path.size() <= (q == std::string_view::npos ? raw.size() : q), "decoding never grows the path");
    require(other.path == t.path && other.query == t.query, "the same output twice");
    return 0;
}
