// Fuzz target for proto/control_request: the control-socket request line.
//
// Input: one line as a client might send it (the daemon reads up to and
// including the first LF, at most max_control_line_bytes).
// Invariants: a parsed request has a subject exactly when its verb takes
// one, and that subject is a word the CLI may send; encoding it gives a
// line within max_control_line_bytes that parses back to the same request;
// a line over the limit is refused.
#include "proto/control_request.hpp"
#include "proto/limits.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using mxw::proto::control_request;
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
    std::string_view line(reinterpret_cast<const char*>(data), size);
    auto req = proto::parse_control_request(line);
    if (!req)
        return 0;
    require(line.size() <= proto::max_control_line_bytes, "no request from an over-long line");
    using verb = control_request::verb;
    bool takes_subject = req->what != verb::ping && req->what != verb::status && req->what != verb::health;
    if (takes_subject) {
        // The parser takes a word up to the whole line; the CLI's cap leaves
        // room for the longest verb, so only check the word itself here.
        for (char c : req->subject)
            require(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f && c != ' ', "the subject is one word");
        require(!req->subject.empty(), "a subject is not empty");
    } else {
        require(req->subject.empty(), "ping, status and health have no subject");
    }
    std::string wire = proto::encode_control_request(*req);
    require(wire.size() <= line.size() + 1, "the encoding is no longer than the line (plus its LF)");
    require(wire.size() <= proto::max_control_line_bytes, "the encoding fits a control line");
    auto again = proto::parse_control_request(wire);
    require(again.has_value() && *again == *req, "the encoding parses to the same request");
    return 0;
}
