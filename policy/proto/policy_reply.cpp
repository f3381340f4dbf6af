#include "proto/policy_reply.hpp"

#include "proto/errors.hpp"
#include "proto/limits.hpp"

namespace mxw::proto {
namespace {

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) noexcept
{
    while (!s.empty() && is_space(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_space(s.back()))
        s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) noexcept
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i] >= 'a' && a[i] <= 'z' ? static_cast<char>(a[i] - 32) : a[i];
        if (x != b[i])
            return false;
    }
    return true;
}

// Length of a run of 1-3 digits at the start of `s`, 0 if there is none
// (RFC 3463: subject and detail have one to three digits).
std::size_t digits_1_3(std::string_view s) noexcept
{
    std::size_t n = 0;
    while (n < s.size() && n < 4 && is_digit(s[n]))
        ++n;
    return n >= 1 && n <= 3 ? n : 0;
}

// Splits "C.SSS.DDD rest" off `text` when C is `cls`; Postfix does the same
// before it takes a policy answer's enhanced code as its own.
void take_enhanced(char cls, std::string_view text, policy_action& a)
{
    if (text.size() >= 5 && text[0] == cls && text[1] == '.') {
        std::size_t s = digits_1_3(text.substr(2));
        if (s && text.size() > 2 + s && text[2 + s] == '.') {
            std::size_t d = digits_1_3(text.substr(3 + s));
            std::size_t end = 3 + s + d;
            if (d && (end == text.size() || is_space(text[end]))) {
                a.enhanced = std::string(text.substr(0, end));
                text = trim(text.substr(end));
            }
        }
    }
    a.text = std::string(text);
}

policy_action coded(policy_action::kind k, std::string_view code, char cls, std::string_view text,
                    std::string_view default_enhanced, std::string_view default_text)
{
    policy_action a;
    a.what = k;
    a.code = std::string(code);
    take_enhanced(cls, text, a);
    if (a.enhanced.empty() && !default_enhanced.empty())
        a.enhanced = std::string(default_enhanced);
    if (a.text.empty())
        a.text = std::string(default_text);
    return a;
}

}  // namespace

step policy_reply_decoder::fail(std::error_code ec) noexcept
{
    ec_ = ec;
    return step::error;
}

step policy_reply_decoder::feed(std::string_view in) noexcept
{
    if (ec_) {
        lines_.consume_nothing();
        return step::error;
    }
    if (frame_done_) {
        action_.clear();
        lines_.new_frame();
        attributes_ = 0;
        frame_done_ = false;
    }
    return lines_.feed(in, ec_, [this](std::string_view line) { return finish_line(line); });
}

step policy_reply_decoder::finish_line(std::string_view line) noexcept
{
    if (line.empty()) {
        frame_done_ = true;
        return step::frame;
    }
    if (++attributes_ > max_policy_attributes)
        return fail(proto_errc::too_many_attributes);
    std::size_t eq = line.find('=');
    if (eq == std::string_view::npos)
        return fail(proto_errc::missing_equals);
    if (eq == 0)
        return fail(proto_errc::empty_name);
    // Postfix reads only "action"; so does the milter. A repeated action
    // keeps the last one, as the request decoder does with its names.
    if (line.substr(0, eq) == "action")
        action_.assign(line.substr(eq + 1));
    return step::need_more;
}

policy_action parse_policy_action(std::string_view action)
{
    using kind = policy_action::kind;
    std::string_view s = trim(action);
    policy_action a;
    if (s.empty())
        return a;
    std::size_t sp = 0;
    while (sp < s.size() && !is_space(s[sp]))
        ++sp;
    std::string_view word = s.substr(0, sp);
    std::string_view rest = trim(s.substr(sp));

    if (word.size() == 3 && (word[0] == '4' || word[0] == '5') && is_digit(word[1]) && is_digit(word[2])) {
        // "5NN text": no default text, as the daemon always says why; an
        // empty one still makes a valid reply.
        return coded(word[0] == '5' ? kind::reject : kind::defer, word, word[0], rest, "", "");
    }
    if (iequals(word, "REJECT"))
        return coded(kind::reject, "554", '5', rest, "5.7.1", "Access denied");
    if (iequals(word, "DEFER") || iequals(word, "DEFER_IF_PERMIT"))
        return coded(kind::defer, "450", '4', rest, "4.7.1", "Try again later");
    if (iequals(word, "DEFER_IF_REJECT") || iequals(word, "DUNNO")) {
        // DEFER_IF_REJECT defers only if a later restriction rejects; the
        // daemon's answer is the last word a milter gets, so nothing does.
        a.what = kind::dunno;
        return a;
    }
    if (iequals(word, "OK")) {
        a.what = kind::ok;
        return a;
    }
    if (iequals(word, "PREPEND") || iequals(word, "FILTER")) {
        if (rest.empty())
            return a;
        a.what = iequals(word, "PREPEND") ? kind::prepend : kind::filter;
        a.text = std::string(rest);
        return a;
    }
    if (iequals(word, "WARN")) {
        a.what = kind::warn;
        a.text = std::string(rest);
        return a;
    }
    if (iequals(word, "DISCARD") || iequals(word, "HOLD")) {
        a.what = iequals(word, "DISCARD") ? kind::discard : kind::hold;
        a.text = std::string(rest);
        return a;
    }
    a.what = kind::unsupported;
    a.text = std::string(s);
    return a;
}

}  // namespace mxw::proto
