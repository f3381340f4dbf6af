// Fuzz target for proto/smtp_reply: the SMTP reply (MX greeting) decoder.
//
// Input layout: byte 0 holds, in its low 3 bits, how many chunk-size bytes
// follow (0 = feed the stream in one piece); each chunk-size byte b means a
// piece of b+1 bytes, used in turn. The rest is the byte stream from the MX.
// Invariants: consumed() <= piece; need_more consumes the whole piece; every
// reply has a 2xx-5xx code and 1..max_smtp_reply_lines lines without LF that
// fit the size limits; the replies, the error and where it struck do not
// depend on how the stream is split; every reply whose encoding fits the
// limits survives encode_smtp_reply -> decode; a failed decoder stays failed.
#include "proto/limits.hpp"
#include "proto/smtp_reply.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

using mxw::proto::smtp_reply;
using mxw::proto::smtp_reply_decoder;
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
    std::vector<smtp_reply> frames;
    std::error_code error;     // set if decoding stopped on an error
    std::size_t consumed = 0;  // bytes used before the end or the error
};

void check_reply(const smtp_reply& r)
{
    require(r.code >= 200 && r.code <= 599, "code is 2xx-5xx");
    require(proto::is_greeting_ok(r) == (r.code == 220), "is_greeting_ok means 220");
    require(!r.lines.empty(), "a reply has a line");
    require(r.lines.size() <= proto::max_smtp_reply_lines, "line count within the limit");
    std::size_t bytes = 0;
    for (const auto& l : r.lines) {
        require(l.find('\n') == std::string::npos, "no LF in text");
        // "NNN" + separator + text + LF is the shortest wire form of a line.
        require(l.size() + 5 <= proto::max_smtp_reply_line_bytes, "line within the limit");
        bytes += l.size() + 5;
    }
    require(bytes <= proto::max_smtp_reply_bytes, "reply within the limit");
}

void check_round_trip(const smtp_reply& r)
{
    std::string wire = proto::encode_smtp_reply(r);
    // A decoded "NNN\n" line is re-encoded as "NNN \r\n": the encoding may
    // outgrow a limit the original just met.
    if (wire.size() > proto::max_smtp_reply_bytes)
        return;
    for (const auto& l : r.lines)
        if (l.size() + 6 > proto::max_smtp_reply_line_bytes)
            return;
    smtp_reply_decoder d;
    require(d.feed(wire) == step::frame, "encoded reply decodes to a frame");
    require(d.consumed() == wire.size(), "encoded reply is consumed whole");
    require(d.reply() == r, "encoded reply decodes to the same reply");
}

outcome decode_stream(std::string_view stream, const std::vector<std::size_t>& pieces)
{
    outcome out;
    smtp_reply_decoder d;
    std::size_t pos = 0;
    std::size_t turn = 0;
    while (pos < stream.size()) {
        std::size_t len = pieces.empty() ? stream.size() - pos : pieces[turn++ % pieces.size()];
        std::string_view piece = stream.substr(pos, len);
        // A reply ends mid-piece; feed the rest of that piece again, as a
        // session does with the bytes left in its buffer.
        while (!piece.empty()) {
            step s = d.feed(piece);
            require(d.consumed() <= piece.size(), "consumed() <= piece size");
            pos += d.consumed();
            out.consumed += d.consumed();
            if (s == step::error) {
                require(static_cast<bool>(d.error()), "error() is set on step::error");
                out.error = d.error();
                require(d.feed(piece) == step::error, "a failed decoder stays failed");
                require(d.consumed() == 0, "a failed decoder consumes nothing");
                require(d.error() == out.error, "the error does not change");
                return out;
            }
            require(!d.error(), "no error() without step::error");
            if (s == step::need_more) {
                require(d.consumed() == piece.size(), "need_more consumes the whole piece");
            } else {
                require(d.consumed() > 0, "a frame consumes bytes");
                check_reply(d.reply());
                check_round_trip(d.reply());
                out.frames.push_back(d.reply());
            }
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
        require(split.frames == whole.frames, "replies do not depend on the split");
        // Every check runs on the first byte that breaks it, so even the
        // kind of error and where it struck are split-independent.
        require(split.error == whole.error, "the error does not depend on the split");
        require(split.consumed == whole.consumed, "the error's position does not depend on the split");
    }
    return 0;
}
