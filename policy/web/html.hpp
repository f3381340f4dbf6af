// web/html.hpp: the pieces every page of mxwarden-web is made of: text
// escaped for HTML, one layout (title, navigation, the log-out form) and
// the one stylesheet. Quarantined mail is hostile by definition, so every
// byte a page shows from it goes through escape() or escape_pre(): the
// output is always valid UTF-8 with no markup, control byte or stray
// quote of the message's. The pages carry no inline script or style at all
// (the server's Content-Security-Policy forbids both). Pure: no I/O.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace mxw::web {

/// For element content and quoted attribute values: & < > " ' become
/// entities; every control byte (tab and line feed too), DEL and a C1
/// control become "\xNN" as visible text; a byte that does not start a
/// valid UTF-8 sequence (overlong, surrogate, past U+10FFFF, cut short)
/// becomes U+FFFD. The result is valid UTF-8.
std::string escape(std::string_view s);
/// escape() appending to `out`.
void escape_into(std::string& out, std::string_view s);

/// escape() for a <pre> block: line feed and tab are kept, a CR before a
/// line feed is dropped (CRLF mail reads as lines), any other CR is "\x0d".
std::string escape_pre(std::string_view s);

/// Who is logged in, for the navigation bar; absent on the login page.
struct nav_user {
    std::string name;
    std::string role;  ///< "admin" / "reviewer"
    std::string csrf;  ///< the session's token, for the log-out form
};

/// A whole page. `title` is text (escaped here); `body` is markup the
/// caller built (escaped already). `active` names the navigation link to
/// mark ("quarantine", "health" or "").
std::string layout(std::string_view title, std::string_view body, const std::optional<nav_user>& user,
                   std::string_view active = "");

/// The stylesheet served at /static/style.css.
extern const std::string_view stylesheet;

}  // namespace mxw::web
