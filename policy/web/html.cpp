// web/html.cpp: escaping, the layout and the stylesheet (see html.hpp).
#include "web/html.hpp"

#include <cstddef>
#include <cstdint>

namespace mxw::web {

namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD

void hex_byte(std::string& out, unsigned char c)
{
    constexpr std::string_view digits = "0123456789abcdef";
    out += "\\x";
    out += digits[c >> 4];
    out += digits[c & 0xf];
}

// The length of the valid UTF-8 sequence starting at s[i], or 0. Follows
// RFC 3629 §4: no overlong forms, no surrogates, nothing past U+10FFFF.
std::size_t utf8_length(std::string_view s, std::size_t i)
{
    auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = at(i);
    std::size_t n = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c == 0xE0) {
        n = 3;
        lo = 0xA0;
    } else if (c == 0xED) {
        n = 3;
        hi = 0x9F;
    } else if (c >= 0xE1 && c <= 0xEF)
        n = 3;
    else if (c == 0xF0) {
        n = 4;
        lo = 0x90;
    } else if (c == 0xF4) {
        n = 4;
        hi = 0x8F;
    } else if (c >= 0xF1 && c <= 0xF3)
        n = 4;
    else
        return 0;
    if (s.size() - i < n)
        return 0;
    if (at(i + 1) < lo || at(i + 1) > hi)
        return 0;
    for (std::size_t k = 2; k < n; ++k)
        if (at(i + k) < 0x80 || at(i + k) > 0xBF)
            return 0;
    return n;
}

void escape_impl(std::string& out, std::string_view s, bool pre)
{
    out.reserve(out.size() + s.size() + s.size() / 8);
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default:
                if (pre && (c == '\n' || c == '\t'))
                    out += static_cast<char>(c);
                else if (pre && c == '\r' && i + 1 < s.size() && s[i + 1] == '\n')
                    ;  // CRLF reads as one line end
                else if (c < 0x20 || c == 0x7f)
                    hex_byte(out, c);
                else
                    out += static_cast<char>(c);
            }
            ++i;
            continue;
        }
        const std::size_t n = utf8_length(s, i);
        if (n == 0) {
            out += replacement;
            ++i;
            continue;
        }
        // C1 controls (U+0080..U+009F, encoded C2 80..C2 9F) are as invisible
        // and as much a parse error as the C0 ones.
        if (n == 2 && c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0)
            hex_byte(out, static_cast<unsigned char>(s[i + 1]));
        else
            out.append(s.substr(i, n));
        i += n;
    }
}

}  // namespace

void escape_into(std::string& out, std::string_view s) { escape_impl(out, s, false); }

std::string escape(std::string_view s)
{
    std::string out;
    escape_impl(out, s, false);
    return out;
}

std::string escape_pre(std::string_view s)
{
    std::string out;
    escape_impl(out, s, true);
    return out;
}

std::string layout(std::string_view title, std::string_view body, const std::optional<nav_user>& user,
                   std::string_view active)
{
    std::string out;
    out.reserve(body.size() + 1024);
    out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
           "<meta name=\"referrer\" content=\"same-origin\">\n<title>";
    escape_into(out, title);
    out += " \xC2\xB7 mxwarden</title>\n<link rel=\"stylesheet\" href=\"/static/style.css\">\n</head>\n<body>\n"
           "<header><nav id=\"nav\"><span class=\"brand\">mxwarden</span>";
    if (user) {
        auto link = [&](std::string_view id, std::string_view href, std::string_view text) {
            out += "<a id=\"nav-";
            out += id;
            out += "\" href=\"";
            out += href;
            out += '"';
            if (active == id)
                out += " class=\"active\" aria-current=\"page\"";
            out += '>';
            out += text;
            out += "</a>";
        };
        link("quarantine", "/quarantine", "Quarantine");
        link("health", "/health", "Health");
        out += "<span id=\"user\" class=\"user\">";
        escape_into(out, user->name);
        out += " (";
        escape_into(out, user->role);
        out += ")</span><form id=\"logout\" method=\"post\" action=\"/logout\">"
               "<input type=\"hidden\" name=\"csrf\" value=\"";
        escape_into(out, user->csrf);
        out += "\"><button id=\"logout-submit\" type=\"submit\">Log out</button></form>";
    }
    out += "</nav></header>\n<main>\n<h1>";
    escape_into(out, title);
    out += "</h1>\n";
    out += body;
    out += "\n</main>\n</body>\n</html>\n";
    return out;
}

const std::string_view stylesheet = R"css(/* mxwarden-web: the only stylesheet; pages carry no inline style. */
body { font-family: system-ui, sans-serif; margin: 0; color: #1d1d1f; background: #fafafa; }
header { background: #233; color: #fff; }
nav { display: flex; gap: 1em; align-items: center; padding: .5em 1em; }
nav a { color: #cde; text-decoration: none; }
nav a.active { color: #fff; font-weight: bold; }
nav .brand { font-weight: bold; margin-right: 1em; }
nav .user { margin-left: auto; }
nav form { display: inline; margin: 0; }
main { padding: 1em; }
h1 { font-size: 1.4em; margin-top: 0; }
h2 { font-size: 1.15em; margin-top: 1.5em; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { border-bottom: 1px solid #ddd; padding: .25em .5em; text-align: left; vertical-align: top; }
th { background: #eef; }
td.num { text-align: right; }
pre { background: #fff; border: 1px solid #ddd; padding: .5em; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
form.filter { display: flex; flex-wrap: wrap; gap: .5em; margin-bottom: 1em; align-items: end; }
form.filter label { display: flex; flex-direction: column; font-size: .85em; }
.error { color: #a00; font-weight: bold; }
.notice { color: #555; }
.result.ok { color: #060; }
.result.failed { color: #a00; }
.state-dead { color: #a00; }
.state-healthy { color: #060; }
.actions { margin: 1em 0; display: flex; gap: 1em; }
.charts { display: flex; flex-wrap: wrap; gap: 1em; }
.login { max-width: 20em; }
.login label { display: block; margin: .5em 0; }
.login input { width: 100%; }
dl.envelope { display: grid; grid-template-columns: max-content auto; gap: .2em 1em; }
dl.envelope dt { font-weight: bold; }
dl.envelope dd { margin: 0; }
)css";

}  // namespace mxw::web
