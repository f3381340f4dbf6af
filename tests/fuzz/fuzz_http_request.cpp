// Fuzz target for proto/http_request: the metrics endpoint's request-head
// decoder.
//
// Input layout: byte 0 holds, in its low 3 bits, how many chunk-size bytes
// follow (0 = feed the stream in one piece); each chunk-size byte b means a
// piece of b+1 bytes, used in turn. The rest is the byte stream from the
// scraper.
// Invariants: consumed() <= piece; need_more consumes the whole piece; a
// frame has a token method, a visible non-empty target and a 1.x version,
// and the request line rebuilt from it decodes to the same request; the
// requests and the error do not depend on how the stream is split; no head
// is taken past max_http_head_bytes; a failed decoder stays failed.
#include "proto/http_request.hpp"
#include "proto/limits.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

using mxw::proto::http_request;
using mxw::proto::http_request_decoder;
using mxw::proto::step;
namespace proto = mxw::proto;

// Fuzz builds define NDEBUG in release modes, so invariants abort explicitly.
void require(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

struct outcome {
    std::vector<http_request> frames;
    std::error_code error;  // set if decoding stopped on an error
};

void check_request(const http_request& r, std::size_t head_bytes)
{
    require(!r.method.empty() && !r.target.empty(), "method and target are not empty");
    require(r.minor_version >= '0' && r.minor_version <= '9', "version is 1.x");
    for (char c : r.method + r.target)
        require(static_cast<unsigned char>(c) > 0x20 && c != 0x7f, "method and target are visible bytes");
    require(head_bytes <= proto::max_http_head_bytes, "a head fits max_http_head_bytes");
    std::string wire = r.method + " " + r.target + " HTTP/1." + r.minor_version + "\r\n\r\n";
    http_request_decoder d;
    require(d.feed(wire) == step::frame, "the rebuilt request line decodes");
    require(d.consumed() == wire.size(), "the rebuilt head is consumed whole");
    require(d.request() == r, "the rebuilt head decodes to the same request");
}

outcome decode_stream(std::string_view stream, const std::vector<std::size_t>& pieces)
{
    outcome out;
    http_request_decoder d;
    std::size_t pos = 0;
    std::size_t turn = 0;
    std::size_t head_bytes = 0;
    while (pos < stream.size()) {
        std::size_t len = pieces.empty() ? stream.size() - pos : pieces[turn++ % pieces.size()];
        std::string_view piece = stream.substr(pos, len);
        // A head ends mid-piece; the rest of the piece is fed again, as the
        // next head (the session itself reads one head only).
        while (!piece.empty()) {
            step s = d.feed(piece);
            require(d.consumed() <= piece.size(), "consumed() <= piece size");
            if (s == step::error) {
                require(static_cast<bool>(d.error()), "error() is set on step::error");
                require(d.consumed() == 0, "a failing feed consumes nothing");
                out.error = d.error();
                require(d.feed(piece) == step::error, "a failed decoder stays failed");
                require(d.error() == out.error, "the error does not change");
                return out;
            }
            require(!d.error(), "no error() without step::error");
            head_bytes += d.consumed();
            if (s == step::need_more) {
                require(d.consumed() == piece.size(), "need_more consumes the whole piece");
            } else {
                require(d.consumed() > 0, "a frame consumes bytes");
                check_request(d.request(), head_bytes);
                out.frames.push_back(d.request());
                head_bytes = 0;
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
        require(split.frames == whole.frames, "requests do not depend on the split");
        // Lines are judged whole and the size is counted byte for byte, so
        // even the kind of error does not depend on the split.
        require(split.error == whole.error, "the error does not depend on the split");
    }
    return 0;
}
