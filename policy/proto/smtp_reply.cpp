#include "proto/smtp_reply.hpp"

#include "proto/errors.hpp"
#include "proto/limits.hpp"

#include <algorithm>

namespace mxw::proto {

bool is_greeting_ok(const smtp_reply& r) noexcept { return r.code == 220; }

void smtp_reply_decoder::reset() noexcept
{
    reply_.code = 0;
    reply_.lines.clear();
    line_.clear();
    line_bytes_ = 0;
    line_code_ = 0;
    reply_bytes_ = 0;
    frame_done_ = false;
    consumed_ = 0;
    ec_.clear();
}

step smtp_reply_decoder::fail(std::error_code ec) noexcept
{
    ec_ = ec;
    return step::error;
}

step smtp_reply_decoder::feed(std::string_view in) noexcept
{
    consumed_ = 0;
    if (ec_)
        return step::error;
    if (frame_done_)
        reset();
    while (consumed_ < in.size()) {
        // The code and separator, the first four bytes of a line, are checked
        // one byte at a time, so garbage such as "hello" fails on its first
        // byte instead of after a line the peer may never finish.
        if (line_bytes_ < 4) {
            step s = take_header_byte(in[consumed_]);
            if (s == step::error)
                return s;
            ++consumed_;
            if (s == step::frame)
                return s;
            continue;
        }
        std::string_view rest = in.substr(consumed_);
        std::size_t nl = rest.find('\n');
        std::size_t take = nl == std::string_view::npos ? rest.size() : nl + 1;
        // Check before copying, so an endless line never grows line_ past
        // the limit. Whichever limit the bytes cross first is reported, as a
        // byte-by-byte feed would (the line limit wins a tie), so the error
        // does not depend on how the stream was split.
        std::size_t line_room = max_smtp_reply_line_bytes - line_bytes_;
        std::size_t reply_room = max_smtp_reply_bytes - reply_bytes_;
        if (take > std::min(line_room, reply_room)) {
            consumed_ += std::min(line_room, reply_room);
            return fail(line_room <= reply_room ? proto_errc::smtp_line_too_long : proto_errc::smtp_reply_too_long);
        }
        line_bytes_ += take;
        reply_bytes_ += take;
        if (nl == std::string_view::npos) {
            consumed_ += take;
            line_.append(rest);
            return step::need_more;
        }
        // The LF counts as consumed only if the line it ends is valid.
        consumed_ += nl;
        line_.append(rest.substr(0, nl));
        step s = finish_line();
        if (s == step::error)
            return s;
        ++consumed_;
        if (s == step::frame)
            return s;
    }
    return step::need_more;
}

step smtp_reply_decoder::take_header_byte(char c) noexcept
{
    // The same per-byte order as the bulk path in feed(): line limit, reply
    // limit, then syntax.
    if (line_bytes_ + 1 > max_smtp_reply_line_bytes)
        return fail(proto_errc::smtp_line_too_long);
    if (reply_bytes_ + 1 > max_smtp_reply_bytes)
        return fail(proto_errc::smtp_reply_too_long);
    std::size_t pos = line_bytes_;
    if (pos < 3) {
        // RFC 5321 §4.2.1: the first digit is 2-5 (1yz is never used in
        // SMTP); the others are not checked further, as Postfix does not.
        char low = pos == 0 ? '2' : '0';
        char high = pos == 0 ? '5' : '9';
        if (c < low || c > high)
            return fail(proto_errc::smtp_bad_code);
        line_code_ = line_code_ * 10 + (c - '0');
        // RFC 5321 §4.2.1: every line of a multi-line reply carries the same
        // code. A server that mixes them is not one a client can trust to
        // have greeted it.
        if (pos == 2 && !reply_.lines.empty() && line_code_ != reply_.code)
            return fail(proto_errc::smtp_code_mismatch);
    } else if (c != ' ' && c != '-' && c != '\r' && c != '\n') {
        // "\r" may start the CRLF of a bare "NNN"; finish_line() checks it.
        return fail(proto_errc::smtp_bad_separator);
    }
    ++line_bytes_;
    ++reply_bytes_;
    if (c == '\n')
        return finish_line();
    line_.push_back(c);
    return step::need_more;
}

step smtp_reply_decoder::finish_line() noexcept
{
    // CRLF is the line end (RFC 5321 §2.3.8); a bare LF is accepted too, as
    // Postfix's smtp_get() does, because some servers send it and the line
    // is just as unambiguous. Only one CR is removed: any other CR is text.
    std::string_view line = line_;
    if (line.ends_with('\r'))
        line.remove_suffix(1);
    std::string_view after = line.substr(3);
    bool last = after.empty() || after.front() == ' ';
    if (!last && after.front() != '-')
        return fail(proto_errc::smtp_bad_separator);  // "NNN\r" followed by more text
    if (reply_.lines.empty())
        reply_.code = line_code_;
    // The vector holds at most max_smtp_reply_lines strings whose sizes add
    // up to less than max_smtp_reply_bytes; an allocation failure here is
    // out of memory, which noexcept turns into std::terminate.
    reply_.lines.emplace_back(after.empty() ? after : after.substr(1));
    line_.clear();
    line_bytes_ = 0;
    line_code_ = 0;
    if (last) {
        frame_done_ = true;
        return step::frame;
    }
    // Fail as soon as another line is announced rather than when it arrives:
    // nothing the peer sends next can make this reply acceptable.
    if (reply_.lines.size() >= max_smtp_reply_lines)
        return fail(proto_errc::smtp_too_many_lines);
    return step::need_more;
}

std::string encode_smtp_reply(const smtp_reply& r)
{
    std::string code = std::to_string(r.code);
    std::string out;
    if (r.lines.empty())
        return code + " \r\n";
    for (std::size_t i = 0; i < r.lines.size(); ++i) {
        out.append(code).push_back(i + 1 < r.lines.size() ? '-' : ' ');
        for (char c : r.lines[i])
            out.push_back(c == '\n' ? ' ' : c);
        out.append("\r\n");
    }
    return out;
}

}  // namespace mxw::proto
