// Tests for proto/http_request: the request-head decoder of the metrics
// endpoint. Limits at their value and one past; every split of the stream
// gives what one piece gives, because the session feeds whatever the
// socket returned.
#include "proto/errors.hpp"
#include "proto/http_request.hpp"
#include "proto/limits.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>

using mxw::proto::http_request;
using mxw::proto::http_request_decoder;
using mxw::proto::proto_errc;
using mxw::proto::step;
namespace proto = mxw::proto;

namespace {

struct result {
    step last = step::need_more;
    http_request req;
    std::error_code ec;
    std::size_t consumed = 0;
};

// Feeds `in` in pieces of `chunk` bytes until a frame or an error.
result decode(std::string_view in, std::size_t chunk = std::string_view::npos)
{
    http_request_decoder d;
    result r;
    std::size_t pos = 0;
    while (pos < in.size()) {
        std::string_view piece = in.substr(pos, chunk);
        r.last = d.feed(piece);
        REQUIRE(d.consumed() <= piece.size());
        r.consumed += d.consumed();
        pos += d.consumed();
        if (r.last == step::error) {
            r.ec = d.error();
            REQUIRE(r.ec);
            REQUIRE(d.feed("GET / HTTP/1.1\r\n\r\n") == step::error);  // stays failed
            REQUIRE(d.consumed() == 0);
            return r;
        }
        REQUIRE(!d.error());
        if (r.last == step::frame) {
            r.req = d.request();
            return r;
        }
        REQUIRE(d.consumed() == piece.size());
    }
    return r;
}

}  // namespace

TEST_CASE("http_request: a scrape request decodes, the body after it is left", "[http]")
{
    const std::string head = "GET /metrics?name[]=x HTTP/1.1\r\nHost: 127.0.0.1:10043\r\n"
                             "User-Agent: Prometheus/2.45.0\r\nAccept: text/plain;version=0.0.4;q=1,*/*;q=0.1\r\n"
                             "X-Empty:\r\n\r\n";
    auto r = decode(head + "BODY");
    REQUIRE(r.last == step::frame);
    CHECK(r.req == http_request{"GET", "/metrics?name[]=x", '1'});
    CHECK(r.consumed == head.size());
    for (std::size_t chunk = 1; chunk < head.size(); ++chunk) {
        auto s = decode(head + "BODY", chunk);
        REQUIRE(s.last == step::frame);
        CHECK(s.req == r.req);
        CHECK(s.consumed == head.size());
    }
}

TEST_CASE("http_request: bare LF line ends and HTTP/1.0", "[http]")
{
    auto r = decode("POST /x HTTP/1.0\n\n");
    REQUIRE(r.last == step::frame);
    CHECK(r.req == http_request{"POST", "/x", '0'});
    CHECK(decode("GET /metrics HTTP/1.1\r\n").last == step::need_more);
}

TEST_CASE("http_request: malformed request lines and fields", "[http]")
{
    struct bad_case {
        const char* label;
        std::string in;
        proto_errc want;
    };
    auto c = GENERATE(values<bad_case>({
        {"empty line first", "\r\n\r\n", proto_errc::http_bad_request_line},
        {"no version", "GET /metrics\r\n\r\n", proto_errc::http_bad_request_line},
        {"other protocol", "GET /metrics SMTP/1.0\r\n\r\n", proto_errc::http_bad_request_line},
        {"HTTP/2", "GET /metrics HTTP/2.0\r\n\r\n", proto_errc::http_bad_request_line},
        {"two spaces", "GET  /metrics HTTP/1.1\r\n\r\n", proto_errc::http_bad_request_line},
        {"trailing blank", "GET /metrics HTTP/1.1 \r\n\r\n", proto_errc::http_bad_request_line},
        {"method not a token", "G(T /metrics HTTP/1.1\r\n\r\n", proto_errc::http_bad_request_line},
        {"control in target", std::string("GET /me\x01trics HTTP/1.1\r\n\r\n"), proto_errc::http_bad_request_line},
        {"NUL in target", std::string("GET /\0 HTTP/1.1\r\n\r\n", 20), proto_errc::http_bad_request_line},
        {"CR inside the line", "GET /\r HTTP/1.1\r\n\r\n", proto_errc::http_bad_request_line},
        {"field without colon", "GET / HTTP/1.1\r\nHost\r\n\r\n", proto_errc::http_bad_field},
        {"space before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", proto_errc::http_bad_field},
        {"folded field", "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", proto_errc::http_bad_field},
        {"NUL in value", std::string("GET / HTTP/1.1\r\nA: \0\r\n\r\n", 24), proto_errc::http_bad_field},
        {"bare CR in value", "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", proto_errc::http_bad_field},
    }));
    INFO(c.label);
    auto r = decode(c.in);
    CHECK(r.last == step::error);
    CHECK(r.ec == c.want);
    CHECK(decode(c.in, 1).ec == c.want);
}

TEST_CASE("http_request: head size at the limit and one past it, whatever the split", "[http]")
{
    const std::string start = "GET /metrics HTTP/1.1\r\nX: ";
    const std::string end = "\r\n\r\n";
    std::string at = start + std::string(proto::max_http_head_bytes - start.size() - end.size(), 'a') + end;
    REQUIRE(at.size() == proto::max_http_head_bytes);
    std::string past = start + std::string(proto::max_http_head_bytes - start.size() - end.size() + 1, 'a') + end;
    for (std::size_t chunk : {std::string_view::npos, std::size_t{1}, std::size_t{7}, std::size_t{2048}}) {
        CHECK(decode(at, chunk).last == step::frame);
        auto r = decode(past, chunk);
        CHECK(r.ec == proto_errc::http_head_too_long);
    }
    // An endless line fails once it passes the cap, not at its end.
    auto endless = decode("GET /" + std::string(proto::max_http_head_bytes, 'a'));
    CHECK(endless.ec == proto_errc::http_head_too_long);
}

TEST_CASE("http_request: header field count at the limit and one past it", "[http]")
{
    auto head = [](std::size_t fields) {
        std::string h = "GET /metrics HTTP/1.1\r\n";
        for (std::size_t i = 0; i < fields; ++i)
            h += "X" + std::to_string(i) + ": y\r\n";
        return h + "\r\n";
    };
    CHECK(decode(head(proto::max_http_header_fields)).last == step::frame);
    CHECK(decode(head(proto::max_http_header_fields + 1)).ec == proto_errc::http_too_many_fields);
}

TEST_CASE("http_request: a decoder that framed takes the next head afresh", "[http]")
{
    http_request_decoder d;
    REQUIRE(d.feed("GET /a HTTP/1.1\r\n\r\n") == step::frame);
    REQUIRE(d.feed("PUT /b HTTP/1.0\r\n\r\n") == step::frame);
    CHECK(d.request() == http_request{"PUT", "/b", '0'});
}
