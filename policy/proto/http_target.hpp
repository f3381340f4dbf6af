// proto/http_target.hpp: the request target of an HTTP/1.1 request line as
// the web view accepts it (RFC 9112 §3.2.1 origin-form only):
//   origin-form = absolute-path [ "?" query ]
// The path is percent-decoded ('+' stays '+': that rule is the query's),
// and anything that could lead a page or a file lookup astray is refused
// instead of normalized: "..", NUL or another control byte, a backslash,
// an empty segment ("//"). Nothing we link to has any of these, so refusing
// costs no legitimate request. Limit: max_http_target_bytes. Pure: no I/O.
#pragma once
#include "proto/limits.hpp"

#include <string>
#include <string_view>

namespace mxw::proto {

enum class target_check {
    ok,
    too_long,         ///< over max_http_target_bytes: 414
    not_origin_form,  ///< "*", "http://host/x", "x", a raw space or control byte: 400
    bad_escape,       ///< '%' not followed by two hex digits: 400
    unsafe_path,      ///< decoded path holds "..", "//", '\\' or a control byte: 400
};

struct http_target {
    std::string path;   ///< decoded; starts with '/'
    std::string query;  ///< after the first '?', still encoded
};

/// Checks and splits `raw` (the target exactly as sent). `out` is filled
/// only when the answer is target_check::ok.
target_check parse_target(std::string_view raw, http_target& out);

}  // namespace mxw::proto
