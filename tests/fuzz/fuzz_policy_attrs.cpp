// Fuzz target for proto/policy_attrs: the policy request decoder.
//
// Input layout: byte 0 holds, in its low 3 bits, how many chunk-size bytes
// follow (0 = feed the stream in one piece); each chunk-size byte b means a
// piece of b+1 bytes, used in turn. The rest is the byte stream from Postfix.
// Invariants: consumed() <= piece; need_more consumes the whole piece; the
// frames and whether decoding fails do not depend on how the stream is split;
// every frame survives encode_policy_request -> decode unchanged; a failed
// decoder stays failed.
#include "proto/policy_attrs.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

using mxw::proto::policy_decoder;
using mxw::proto::policy_request;
using mxw::proto::step;

// Fuzz builds define NDEBUG in release modes, so invariants abort explicitly.
void require(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

struct outcome {
    std::vector<policy_request> frames;
    std::error_code error;  // set if decoding stopped on an error
};

void check_round_trip(const policy_request& req)
{
    std::string wire = mxw::proto::encode_policy_request(req);
    policy_decoder d;
    require(d.feed(wire) == step::frame, "encoded request decodes to a frame");
    require(d.consumed() == wire.size(), "encoded request is consumed whole");
    require(d.request() == req, "encoded request decodes to the same request");
}

outcome decode_stream(std::string_view stream, const std::vector<std::size_t>& pieces)
{
    outcome out;
    policy_decoder d;
    std::size_t pos = 0;
    std::size_t turn = 0;
    while (pos < stream.size()) {
        std::size_t len = pieces.empty() ? stream.size() - pos : pieces[turn++ % pieces.size()];
        std::string_view piece = stream.substr(pos, len);
        // A frame ends mid-piece; feed the rest of that piece again, as a
        // session does with the bytes left in its buffer.
        while (!piece.empty()) {
            step s = d.feed(piece);
            require(d.consumed() <= piece.size(), "consumed() <= piece size");
            if (s == step::error) {
                require(static_cast<bool>(d.error()), "error() is set on step::error");
                out.error = d.error();
                require(d.feed(piece) == step::error, "a failed decoder stays failed");
                require(d.error() == out.error, "the error does not change");
                return out;
            }
            require(!d.error(), "no error() without step::error");
            if (s == step::need_more) {
                require(d.consumed() == piece.size(), "need_more consumes the whole piece");
            } else {
                require(d.consumed() > 0, "a frame consumes bytes");
                out.frames.push_back(d.request());
                check_round_trip(d.request());
            }
            pos += d.consumed();
            piece.remove_prefix(d.consumed());
        }
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view in(reinterpret_cast<const char*>(data), size);
    std::vector<std::size_t> pieces;
    if (!in.empty()) {
        std::size_t n = static_cast<std::uint8_t>(in[0]) & 7u;
        in.remove_prefix(1);
        for (; n > 0 && !in.empty(); --n) {
            pieces.push_back(static_cast<std::size_t>(static_cast<std::uint8_t>(in[0])) + 1);
            in.remove_prefix(1);
        }
    }
    outcome split = decode_stream(in, pieces);
    if (!pieces.empty()) {
        outcome whole = decode_stream(in, {});
        require(split.frames == whole.frames, "frames do not depend on the split");
        // Only whether it failed: a line that is both too long and holds a
        // NUL is reported by whichever check its piece reaches first.
        require(static_cast<bool>(split.error) == static_cast<bool>(whole.error),
                "failing does not depend on the split");
    }
    return 0;
}
