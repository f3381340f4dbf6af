// Fuzz target for proto/policy_reply: the reply decoder and the action
// classifier, as the milter meets them reading mxwardend's answers.
//
// Input layout: byte 0 holds, in its low 3 bits, how many chunk-size bytes
// follow (0 = one piece); each chunk-size byte b means a piece of b+1 bytes.
// The rest is the stream from the daemon. Invariants: consumed() <= piece;
// need_more consumes the whole piece; frames and failure do not depend on
// the split; every action survives encode_policy_reply -> decode; a reject
// or defer always carries a three-digit code of its own class, and an
// enhanced code of the same class.
#include "proto/policy_attrs.hpp"
#include "proto/policy_reply.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

using mxw::proto::policy_action;
using mxw::proto::policy_reply_decoder;
using mxw::proto::step;

void require(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

void check_action(const std::string& action)
{
    // The daemon's encoder turns CR into a space; that is what comes back.
    std::string expect = action;
    for (char& c : expect)
        if (c == '\r')
            c = ' ';
    std::string wire = mxw::proto::encode_policy_reply(action);
    policy_reply_decoder d;
    require(d.feed(wire) == step::frame, "an encoded reply decodes to a frame");
    require(d.action() == expect, "an encoded reply decodes to its action");
    policy_action a = mxw::proto::parse_policy_action(action);
    if (a.what == policy_action::kind::reject || a.what == policy_action::kind::defer) {
        const char cls = a.what == policy_action::kind::reject ? '5' : '4';
        require(a.code.size() == 3 && a.code[0] == cls, "reply code of the verdict's class");
        require(a.enhanced.empty() || a.enhanced[0] == cls, "enhanced code of the same class");
    }
}

struct outcome {
    std::vector<std::string> frames;
    bool failed = false;
};

outcome decode_stream(std::string_view stream, const std::vector<std::size_t>& pieces)
{
    outcome out;
    policy_reply_decoder d;
    std::size_t pos = 0;
    std::size_t turn = 0;
    while (pos < stream.size()) {
        std::size_t len = pieces.empty() ? stream.size() - pos : pieces[turn++ % pieces.size()];
        std::string_view piece = stream.substr(pos, len);
        while (!piece.empty()) {
            step s = d.feed(piece);
            require(d.consumed() <= piece.size(), "consumed() <= piece size");
            if (s == step::error) {
                require(static_cast<bool>(d.error()), "error() is set on step::error");
                require(d.feed(piece) == step::error, "a failed decoder stays failed");
                out.failed = true;
                return out;
            }
            if (s == step::need_more)
                require(d.consumed() == piece.size(), "need_more consumes the whole piece");
            else {
                out.frames.push_back(d.action());
                check_action(d.action());
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
        require(split.failed == whole.failed, "failing does not depend on the split");
    }
    return 0;
}
