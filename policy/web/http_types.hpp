// web/http_types.hpp: one request and its response as the web view's
// pages see them, after the server (web/http_server) has read, checked and
// capped what the browser sent. The pages never see a socket or Beast's
// types, so they are tested by calling handler::handle() directly.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mxw::web {

struct request {
    std::string method;        ///< "GET", "POST", ... as sent
    std::string path;          ///< percent-decoded, without the query; starts with '/', no "..", no NUL
    std::string query;         ///< after '?', still encoded (proto::parse_form reads it)
    std::string cookie;        ///< the Cookie header(s), joined with "; "
    std::string content_type;  ///< media type only, lower case ("application/x-www-form-urlencoded")
    std::string origin;        ///< the Origin header, empty when not sent
    std::string host;          ///< the Host header as sent (a POST's Origin must name it)
    std::string body;          ///< at most the server's body cap
    std::string peer;          ///< the client's address, for the login rate limit
};

struct response {
    unsigned status = 200;
    std::string content_type = "text/html; charset=utf-8";
    /// Besides the ones the server sets on every answer (CSP and the other
    /// security headers, Cache-Control): Set-Cookie, Location,
    /// Content-Disposition.
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

/// What the server calls for each request, on its one thread. `now`: Unix
/// seconds.
class handler {
public:
    virtual ~handler() = default;
    handler() = default;
    handler(const handler&) = delete;
    handler& operator=(const handler&) = delete;
    virtual response handle(const request& r, std::int64_t now) = 0;
};

}  // namespace mxw::web
