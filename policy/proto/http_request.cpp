#include "proto/http_request.hpp"

#include "proto/errors.hpp"
#include "proto/limits.hpp"

namespace mxw::proto {
namespace {

// RFC 9110 §5.6.2 tchar.
bool is_tchar(char c) noexcept
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) noexcept
{
    if (s.empty())
        return false;
    for (char c : s)
        if (!is_tchar(c))
            return false;
    return true;
}

// VCHAR or obs-text: everything but controls, space and DEL.
bool is_visible(char c) noexcept
{
    auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u != 0x7f;
}

}  // namespace

step http_request_decoder::fail(std::error_code ec) noexcept
{
    ec_ = ec;
    consumed_ = 0;
    return step::error;
}

step http_request_decoder::feed(std::string_view in) noexcept
{
    consumed_ = 0;
    if (ec_)
        return step::error;
    if (done_) {
        // A new head: the previous frame was the last thing handed out.
        *this = http_request_decoder();
    }
    while (consumed_ < in.size()) {
        std::string_view rest = in.substr(consumed_);
        std::size_t nl = rest.find('\n');
        std::string_view chunk = rest.substr(0, nl == std::string_view::npos ? rest.size() : nl);
        // The LF counts too: a head of exactly max_http_head_bytes fits.
        std::size_t need = chunk.size() + (nl == std::string_view::npos ? 0 : 1);
        if (head_bytes_ + need > max_http_head_bytes)
            return fail(proto_errc::http_head_too_long);
        head_bytes_ += need;
        if (nl == std::string_view::npos) {
            line_.append(chunk);
            consumed_ = in.size();
            return step::need_more;
        }
        consumed_ += need;
        step s;
        if (line_.empty()) {
            s = finish_line(chunk);
        } else {
            line_.append(chunk);
            s = finish_line(line_);
            line_.clear();
        }
        if (s == step::error) {
            return fail(ec_);
        }
        if (s == step::frame) {
            done_ = true;
            return s;
        }
    }
    return step::need_more;
}

step http_request_decoder::finish_line(std::string_view line) noexcept
{
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    if (!have_request_line_) {
        // An empty line first is no request (§2.2 lets a server skip it;
        // a scraper never sends one, so it is refused rather than waited on).
        auto sp1 = line.find(' ');
        auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
        if (sp2 == std::string_view::npos) {
            ec_ = proto_errc::http_bad_request_line;
            return step::error;
        }
        std::string_view method = line.substr(0, sp1);
        std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
        std::string_view version = line.substr(sp2 + 1);
        bool target_ok = !target.empty();
        for (char c : target)
            target_ok = target_ok && is_visible(c);
        if (!is_token(method) || !target_ok || version.size() != 8 || !version.starts_with("HTTP/1.") ||
            version[7] < '0' || version[7] > '9') {
            ec_ = proto_errc::http_bad_request_line;
            return step::error;
        }
        request_.method.assign(method);
        request_.target.assign(target);
        request_.minor_version = version[7];
        have_request_line_ = true;
        return step::need_more;
    }
    if (line.empty())
        return step::frame;
    // §5.1: no whitespace between the name and the colon, and §5.2: obsolete
    // line folding (a line starting with a blank) is refused, not unfolded.
    auto colon = line.find(':');
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
        ec_ = proto_errc::http_bad_field;
        return step::error;
    }
    for (char c : line.substr(colon + 1)) {
        if (!is_visible(c) && c != ' ' && c != '\t') {
            ec_ = proto_errc::http_bad_field;
            return step::error;
        }
    }
    if (++fields_ > max_http_header_fields) {
        ec_ = proto_errc::http_too_many_fields;
        return step::error;
    }
    return step::need_more;
}

}  // namespace mxw::proto
