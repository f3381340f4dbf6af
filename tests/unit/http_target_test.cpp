#include "proto/http_target.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace mxw::proto;

TEST_CASE("http_target: origin-form split into a decoded path and a raw query", "[http_target]")
{
    http_target t;
    REQUIRE(parse_target("/quarantine/42?domain=example.org&q=a+b%26c", t) == target_check::ok);
    CHECK(t.path == "/quarantine/42");
    CHECK(t.query == "domain=example.org&q=a+b%26c");
    REQUIRE(parse_target("/", t) == target_check::ok);
    CHECK(t.path == "/");
    CHECK(t.query.empty());
    REQUIRE(parse_target("/a%20b+c%2Fd/?x=1?y", t) == target_check::ok);
    CHECK(t.path == "/a b+c/d/");  // '+' is a space only in the query
    CHECK(t.query == "x=1?y");
    REQUIRE(parse_target("/%C3%A9t%c3%a9", t) == target_check::ok);
    CHECK(t.path == "/\xc3\xa9t\xc3\xa9");
    REQUIRE(parse_target("/x.css", t) == target_check::ok);
}

TEST_CASE("http_target: anything but origin-form is refused", "[http_target]")
{
    struct row {
        const char* label;
        std::string raw;
    };
    auto c = GENERATE(values<row>({
        {"empty", ""},
        {"asterisk", "*"},
        {"absolute-form", "http://example.org/"},
        {"relative", "quarantine"},
        {"raw space", "/a b"},
        {"raw tab", "/a\tb"},
        {"raw NUL", std::string("/a\0b", 4)},
        {"raw DEL", "/a\x7f"},
        {"raw non-ASCII", "/\xc3\xa9"},
        {"fragment", "/a#b"},
    }));
    INFO(c.label);
    http_target t{"untouched", "untouched"};
    CHECK(parse_target(c.raw, t) == target_check::not_origin_form);
    CHECK(t.path == "untouched");
}

TEST_CASE("http_target: path tricks are refused after decoding", "[http_target]")
{
    struct row {
        const char* label;
        const char* raw;
        target_check want;
    };
    auto c = GENERATE(values<row>({
        {"dot dot", "/../etc/passwd", target_check::unsafe_path},
        {"encoded dot dot", "/%2e%2e/etc/passwd", target_check::unsafe_path},
        {"mixed dot dot", "/.%2E/x", target_check::unsafe_path},
        {"encoded slash", "/..%2fx", target_check::unsafe_path},
        {"trailing dot dot", "/a/..", target_check::unsafe_path},
        {"double slash", "//x", target_check::unsafe_path},
        {"encoded double slash", "/%2f/x", target_check::unsafe_path},
        {"inner double slash", "/a//b", target_check::unsafe_path},
        {"NUL", "/a%00b", target_check::unsafe_path},
        {"CR LF", "/a%0d%0aSet-Cookie:x", target_check::unsafe_path},
        {"backslash", "/a%5cb", target_check::unsafe_path},
        {"raw backslash", "/a\\b", target_check::unsafe_path},
        {"stray percent", "/a%", target_check::bad_escape},
        {"short escape", "/a%4", target_check::bad_escape},
        {"bad hex", "/a%zz", target_check::bad_escape},
    }));
    INFO(c.label);
    http_target t;
    CHECK(parse_target(c.raw, t) == c.want);
}

TEST_CASE("http_target: the length cap, at and one past it", "[http_target]")
{
    http_target t;
    std::string at_cap = "/" + std::string(max_http_target_bytes - 1, 'a');
    CHECK(parse_target(at_cap, t) == target_check::ok);
    CHECK(t.path.size() == max_http_target_bytes);
    CHECK(parse_target(at_cap + "a", t) == target_check::too_long);
    // The query counts too: the cap is on what the client sent.
    CHECK(parse_target("/?" + std::string(max_http_target_bytes - 2, 'q'), t) == target_check::ok);
    CHECK(parse_target("/?" + std::string(max_http_target_bytes - 1, 'q'), t) == target_check::too_long);
}
