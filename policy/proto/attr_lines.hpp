// proto/attr_lines.hpp: the line framing of the Postfix policy protocol,
// shared by the request decoder (daemon side) and the reply decoder (the
// milter's side): "name=value\n" lines ended by an empty line, with the
// line and frame caps of proto/limits.hpp checked before anything is
// copied, and no NUL bytes. Lines are handed to the caller as they end; a
// line that arrived whole is passed where it lies, only a line split across
// feeds is assembled first. Pure.
#pragma once
#include "proto/errors.hpp"
#include "proto/limits.hpp"
#include "proto/step.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

namespace mxw::proto {

class attr_lines {
public:
    /// Consumes a prefix of `in`, calling `on_line(std::string_view)` (which
    /// returns a step) for every line that ends, the empty one included,
    /// until it returns something other than need_more. A framing error sets
    /// `ec` and returns step::error.
    template <class OnLine>
    step feed(std::string_view in, std::error_code& ec, OnLine&& on_line)
    {
        consumed_ = 0;
        while (consumed_ < in.size()) {
            std::string_view rest = in.substr(consumed_);
            std::size_t nl = rest.find('\n');
            std::string_view chunk = rest.substr(0, nl == std::string_view::npos ? rest.size() : nl);
            // Sizes are checked before copying: an endless line must not
            // make the peer's reader grow past the limit.
            if (line_.size() + chunk.size() > max_policy_line_bytes)
                return fail(ec, proto_errc::line_too_long);
            if (frame_bytes_ + chunk.size() + 1 > max_policy_request_bytes)
                return fail(ec, proto_errc::request_too_long);
            if (chunk.find('\0') != std::string_view::npos)
                return fail(ec, proto_errc::nul_byte);
            frame_bytes_ += chunk.size();
            consumed_ += chunk.size();
            if (nl == std::string_view::npos) {
                line_.append(chunk);
                return step::need_more;
            }
            ++consumed_;
            ++frame_bytes_;
            step s;
            if (line_.empty()) {
                s = on_line(chunk);
            } else {
                line_.append(chunk);
                s = on_line(std::string_view(line_));
                line_.clear();
            }
            if (s != step::need_more)
                return s;
        }
        return step::need_more;
    }

    /// The next frame starts: its size counts from zero.
    void new_frame() noexcept { frame_bytes_ = 0; }
    /// For a decoder that refuses input after an error.
    void consume_nothing() noexcept { consumed_ = 0; }
    [[nodiscard]] std::size_t consumed() const noexcept { return consumed_; }

private:
    static step fail(std::error_code& ec, proto_errc e)
    {
        ec = e;
        return step::error;
    }
    std::string line_;  // a line split across feeds, so far
    std::size_t frame_bytes_ = 0;
    std::size_t consumed_ = 0;
};

}  // namespace mxw::proto
