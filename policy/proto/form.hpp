// proto/form.hpp: what a browser sends the web view besides the request
// line: query strings and application/x-www-form-urlencoded bodies (the
// same syntax, WHATWG URL "application/x-www-form-urlencoded parsing"),
// and the Cookie header (RFC 6265 §4.2.1):
//   form        = [ field *( "&" field ) ]          empty fields are skipped
//   field       = name [ "=" value ]                 '+' is a space, %XX a byte
//   cookie-line = cookie *( ";" *SP cookie )
//   cookie      = name "=" value                     value as sent, unquoted
// Unlike a browser's lenient parser, a '%' not followed by two hex digits
// makes the whole form malformed: nothing we generate contains one, so it is
// a hand-made or broken request and gets a 400. Limits: max_form_bytes,
// max_form_fields, max_cookies. Pure: no I/O.
#pragma once
#include "proto/limits.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mxw::proto {

/// Fields in the order sent; a name may repeat (checkboxes: id=1&id=2).
using form_fields = std::vector<std::pair<std::string, std::string>>;

/// Decodes %XX and '+'. nullopt for a stray or bad '%' escape.
std::optional<std::string> form_decode(std::string_view s);

/// nullopt when malformed, longer than max_form_bytes, or with more than
/// max_form_fields fields. Decoded names and values may hold any byte,
/// NUL included: callers check what they accept.
std::optional<form_fields> parse_form(std::string_view s);

/// The first value of `name`, nullopt when absent.
std::optional<std::string> form_value(const form_fields& f, std::string_view name);
/// Every value of `name`, in order.
std::vector<std::string> form_values(const form_fields& f, std::string_view name);

/// Percent-encodes everything but unreserved characters (RFC 3986 §2.3),
/// for links built from user input (a filter kept across pages).
std::string form_encode(std::string_view s);

/// Cookies in the order sent. Pieces without '=' are skipped (browsers
/// send none; RFC 6265 §5.2 ignores them too). nullopt over max_cookies or
/// a header longer than max_http_head_bytes.
std::optional<form_fields> parse_cookies(std::string_view header);

}  // namespace mxw::proto
