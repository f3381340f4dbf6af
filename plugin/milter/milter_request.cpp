#include "milter/milter_request.hpp"

#include <algorithm>

namespace mxw::milter {
namespace {

bool iequals(std::string_view a, std::string_view b) noexcept
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               auto up = [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; };
               return up(x) == up(y);
           });
}

// A name an MTA puts in {client_name} / {client_ptr} when it has one:
// Sendmail writes "[ip]" and Postfix "unknown" when it has none.
bool known_name(std::string_view n) noexcept { return !n.empty() && n.front() != '[' && n != "unknown"; }

std::string bare_address(std::string_view a)
{
    if (a.size() >= 2 && a.front() == '[' && a.back() == ']')
        a = a.substr(1, a.size() - 2);
    if (a.size() > 5 && iequals(a.substr(0, 5), "IPv6:"))
        a.remove_prefix(5);
    return attribute_value(a);
}

bool control(char c) noexcept { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

// Reply codes are the daemon's; still checked, because libmilter refuses
// anything but "[45]NN" and the MTA would then answer its own text.
bool valid_rcode(std::string_view c, char cls) noexcept
{
    return c.size() == 3 && c[0] == cls && c[1] >= '0' && c[1] <= '9' && c[2] >= '0' && c[2] <= '9';
}

bool header_name_ok(std::string_view n) noexcept
{
    // RFC 5322 §3.6.8 field-name: printable ASCII except ':'.
    return !n.empty() && std::none_of(n.begin(), n.end(), [](char c) { return c <= ' ' || c >= 0x7f || c == ':'; });
}

bool reason_ok(std::string_view r) noexcept
{
    // The quarantine CLI's rule for a reason: one printable word of at most
    // 100 bytes (it becomes a command-line word on release).
    return !r.empty() && r.size() <= 100 &&
           std::none_of(r.begin(), r.end(), [](char c) { return c <= ' ' || c >= 0x7f; });
}

}  // namespace

std::string_view protocol_state(stage s) noexcept
{
    switch (s) {
    case stage::connect: return "CONNECT";
    case stage::mail: return "MAIL";
    case stage::rcpt: return "RCPT";
    case stage::end_of_message: return "END-OF-MESSAGE";
    }
    return "";
}

std::string attribute_value(std::string_view v)
{
    std::string out(v.substr(0, max_attribute_bytes));
    for (char& c : out)
        if (control(c))
            c = '?';
    return out;
}

void apply_client(proto::policy_request& req, const connect_macros& m)
{
    req.client_address = bare_address(!m.client_addr.empty() ? std::string_view(m.client_addr)
                                                             : std::string_view(m.sockaddr_text));
    const std::string_view name = !m.client_name.empty() ? std::string_view(m.client_name)
                                                         : std::string_view(m.hostname_arg);
    const bool verified = m.client_resolve.empty() ? known_name(name)
                                                   : iequals(m.client_resolve, "OK") && known_name(name);
    req.client_name = verified ? attribute_value(name) : "unknown";
    if (known_name(m.client_ptr))
        req.reverse_client_name = attribute_value(m.client_ptr);
    else
        req.reverse_client_name = verified ? req.client_name : "unknown";
}

std::string envelope_address(std::string_view arg)
{
    if (arg.size() >= 2 && arg.front() == '<' && arg.back() == '>')
        arg = arg.substr(1, arg.size() - 2);
    // "@a,@b:user@d": the mailbox follows the last ':' of the route.
    if (!arg.empty() && arg.front() == '@') {
        std::size_t colon = arg.find(':');
        arg = colon == std::string_view::npos ? std::string_view{} : arg.substr(colon + 1);
    }
    return attribute_value(arg);
}

std::string escape_reply_text(std::string_view text)
{
    std::string out;
    out.reserve(std::min(text.size() + 8, max_reply_text_bytes));
    for (char c : text) {
        const bool percent = c == '%';
        if (out.size() + (percent ? 2 : 1) > max_reply_text_bytes)
            break;
        if (percent)
            out.append("%%");
        else
            out.push_back(control(c) ? ' ' : c);
    }
    return out;
}

milter_verdict on_error_verdict(bool tempfail)
{
    milter_verdict v;
    if (tempfail) {
        v.what = milter_verdict::kind::tempfail;
        v.rcode = "451";
        v.xcode = "4.3.0";
        v.text = "mxwarden policy service unavailable, try again later";
    }
    return v;
}

milter_verdict map_action(const proto::policy_action& a, std::string_view quarantine_transport)
{
    using pk = proto::policy_action::kind;
    using vk = milter_verdict::kind;
    milter_verdict v;
    switch (a.what) {
    case pk::dunno:
    case pk::ok: break;
    case pk::reject:
    case pk::defer: {
        const char cls = a.what == pk::reject ? '5' : '4';
        if (!valid_rcode(a.code, cls)) {
            v.note = "bad reply code " + attribute_value(a.code);
            break;
        }
        v.what = a.what == pk::reject ? vk::reject : vk::tempfail;
        v.rcode = a.code;
        if (!a.enhanced.empty() && a.enhanced.front() == cls)
            v.xcode = a.enhanced;
        v.text = escape_reply_text(a.text);
        break;
    }
    case pk::prepend: {
        std::string_view line = a.text;
        std::size_t colon = line.find(':');
        std::string_view name = line.substr(0, colon);
        while (!name.empty() && (name.back() == ' ' || name.back() == '\t'))
            name.remove_suffix(1);
        if (colon == std::string_view::npos || !header_name_ok(name)) {
            v.note = "PREPEND without a valid header name";
            break;
        }
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
            value.remove_prefix(1);
        v.what = vk::tag;
        v.header_name = std::string(name);
        // Room for "name: value" in one line; control bytes would break the
        // header section, so they become spaces.
        const std::size_t room = max_header_line_bytes > name.size() + 2 ? max_header_line_bytes - name.size() - 2 : 0;
        v.header_value = std::string(value.substr(0, room));
        for (char& c : v.header_value)
            if (control(c))
                c = ' ';
        break;
    }
    case pk::filter: {
        std::string_view t = a.text;
        std::size_t colon = t.find(':');
        if (colon != std::string_view::npos && t.substr(0, colon) == quarantine_transport) {
            v.what = vk::quarantine;
            std::string_view reason = t.substr(colon + 1);
            // A reason the store would refuse must not cost the message.
            v.reason = reason_ok(reason) ? std::string(reason) : "unspecified";
        } else {
            v.note = "FILTER to a transport other than the quarantine";
        }
        break;
    }
    case pk::discard: v.what = vk::discard; break;
    case pk::hold: v.note = "HOLD is not acted on by the milter"; break;
    case pk::warn: v.note = "WARN"; break;
    case pk::unsupported: v.note = "action not supported by the milter"; break;
    case pk::invalid: v.note = "invalid action"; break;
    }
    return v;
}

void message_capture::append(std::string_view s)
{
    total_ += s.size();
    if (overflow_)
        return;
    if (data_.size() + s.size() > max_) {
        // A partial message is no use to the quarantine: drop it all.
        overflow_ = true;
        data_.clear();
        data_.shrink_to_fit();
        return;
    }
    data_.append(s);
}

void message_capture::add_header(std::string_view name, std::string_view value, bool raw_value)
{
    std::string line(name);
    line.push_back(':');
    if (!raw_value)
        line.push_back(' ');
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (value[i] == '\n' && (i == 0 || value[i - 1] != '\r'))
            line.push_back('\r');
        line.push_back(value[i]);
    }
    line.append("\r\n");
    append(line);
}

void message_capture::end_of_headers() { append("\r\n"); }

void message_capture::add_body(std::string_view chunk) { append(chunk); }

}  // namespace mxw::milter
