// proto/http_request.hpp: the head of one HTTP/1.x request, as the metrics
// endpoint reads it (RFC 9112 §2-§5):
//   head         = request-line *( field-line ) empty-line
//   request-line = method SP request-target SP "HTTP/1." DIGIT EOL
//   field-line   = field-name ":" *( VCHAR / obs-text / SP / HTAB ) EOL
//   EOL          = CRLF / LF        (§2.2 lets a server take a bare LF)
// method and field-name are tokens; the target is any run of visible bytes.
// Header fields are checked and counted, not kept: the endpoint needs none.
// Limits: max_http_head_bytes, max_http_header_fields. A body, or a second
// request, after the head is left unread. Pure: no I/O.
#pragma once
#include "proto/step.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

namespace mxw::proto {

struct http_request {
    std::string method;   ///< "GET", case as sent (methods are case-sensitive)
    std::string target;   ///< "/metrics?x=1", as sent
    char minor_version = '1';  ///< the x of "HTTP/1.x"
    bool operator==(const http_request&) const = default;
};

/// Incremental decoder: the session feeds bytes as they arrive.
class http_request_decoder {
public:
    /// Consumes a prefix of `in`. need_more: all of it was used. frame: the
    /// head ended (the empty line included in consumed()); request() is set
    /// and later bytes are not the decoder's business. error: error() says
    /// why (http_head_too_long, http_too_many_fields, http_bad_request_line,
    /// http_bad_field); a failed decoder stays failed and consumes nothing.
    /// A line is judged when its LF arrives; the size caps are checked
    /// before anything is buffered, whatever the split.
    [[nodiscard]] step feed(std::string_view in) noexcept;
    [[nodiscard]] std::size_t consumed() const noexcept { return consumed_; }
    /// Valid after step::frame, until the next feed().
    [[nodiscard]] const http_request& request() const noexcept { return request_; }
    [[nodiscard]] std::error_code error() const noexcept { return ec_; }

private:
    step finish_line(std::string_view line) noexcept;
    step fail(std::error_code ec) noexcept;
    std::string line_;  // a line split across feeds, so far
    std::size_t head_bytes_ = 0;
    std::size_t fields_ = 0;
    std::size_t consumed_ = 0;
    bool have_request_line_ = false;
    bool done_ = false;  // a frame was returned: the head is complete
    http_request request_;
    std::error_code ec_;
};

}  // namespace mxw::proto
