// Fuzz target for proto/netstring: the incremental netstring decoder.
//
// Input layout: byte 0 holds, in its low 3 bits, how many chunk-size bytes
// follow (0 = feed the stream in one piece), and in bits 3-5 which payload
// limit to use (0 = the socketmap request limit the daemon uses); each
// chunk-size byte b means a piece of b+1 bytes, used in turn. The rest is the
// byte stream from the peer.
// Invariants: consumed() <= piece; need_more consumes the whole piece; no
// payload exceeds the limit; frames and the error do not depend on how the
// stream is split; every payload survives encode_netstring -> decode; a
// failed decoder stays failed.
#include "proto/limits.hpp"
#include "proto/netstring.hpp"

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

using mxw::proto::netstring_decoder;
using mxw::proto::step;

// Small limits make "too long" reachable; 10 and 100 sit on digit boundaries.
constexpr std::array<std::size_t, 8> limits{
    mxw::proto::max_socketmap_request_bytes, mxw::proto::max_socketmap_reply_bytes, 0, 1, 9, 10, 99, 100};

// Fuzz builds define NDEBUG in release modes, so invariants abort explicitly.
void require(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

struct outcome {
    std::vector<std::string> frames;
    std::error_code error;  // set if decoding stopped on an error
    bool operator==(const outcome&) const = default;
};

void check_round_trip(std::string_view payload, std::size_t max)
{
    std::string wire = mxw::proto::encode_netstring(payload);
    netstring_decoder d(max);
    require(d.feed(wire) == step::frame, "encoded payload decodes to a frame");
    require(d.consumed() == wire.size(), "encoded payload is consumed whole");
    require(d.payload() == payload, "encoded payload decodes to the same payload");
}

outcome decode_stream(std::string_view stream, const std::vector<std::size_t>& pieces, std::size_t max)
{
    outcome out;
    netstring_decoder d(max);
    std::size_t pos = 0;
    std::size_t turn = 0;
    std::size_t frame_bytes = 0;  // consumed since the last frame
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
                require(d.consumed() == 0, "a failed decoder consumes nothing");
                require(d.error() == out.error, "the error does not change");
                return out;
            }
            require(!d.error(), "no error() without step::error");
            frame_bytes += d.consumed();
            if (s == step::need_more) {
                require(d.consumed() == piece.size(), "need_more consumes the whole piece");
            } else {
                require(d.payload().size() <= max, "a payload is within the limit");
                require(frame_bytes >= d.payload().size() + 3, "a frame spans its payload, ':', ',' and a digit");
                frame_bytes = 0;
                out.frames.emplace_back(d.payload());
                check_round_trip(d.payload(), max);
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
    std::size_t max = limits[0];
    if (!in.empty()) {
        auto head = static_cast<std::uint8_t>(in[0]);
        std::size_t n = head & 7u;
        max = limits[(head >> 3) & 7u];
        in.remove_prefix(1);
        for (; n > 0 && !in.empty(); --n) {
            pieces.push_back(static_cast<std::size_t>(static_cast<std::uint8_t>(in[0])) + 1);
            in.remove_prefix(1);
        }
    }
    outcome split = decode_stream(in, pieces, max);
    if (!pieces.empty()) {
        // The decoder looks at one byte at a time, so even the error code
        // must not depend on the split.
        require(split == decode_stream(in, {}, max), "the outcome does not depend on the split");
    }
    return 0;
}
