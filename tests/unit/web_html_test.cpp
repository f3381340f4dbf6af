#include "web/html.hpp"
#include "web/svg_chart.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace mxw::web;

namespace {

// A strict UTF-8 check, written apart from the escaper's own decoder.
bool valid_utf8(const std::string& s)
{
    std::size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (n == 0 || i + n > s.size())
            return false;
        std::uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
        for (std::size_t k = 1; k < n; ++k) {
            auto d = static_cast<unsigned char>(s[i + k]);
            if ((d & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (d & 0x3f);
        }
        const std::uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n;
    }
    return true;
}

}  // namespace

TEST_CASE("html: markup characters become entities", "[web][html]")
{
    CHECK(escape("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;");
    CHECK(escape("<img src=\"http://x/\" onerror='y'>") ==
          "&lt;img src=&quot;http://x/&quot; onerror=&#39;y&#39;&gt;");
    CHECK(escape("a & b") == "a &amp; b");
    CHECK(escape("") == "");
    CHECK(escape("plain text, 100% ok") == "plain text, 100% ok");
}

TEST_CASE("html: control bytes are shown, never passed through", "[web][html]")
{
    CHECK(escape(std::string("a\0b", 3)) == "a\\x00b");
    CHECK(escape("a\nb\tc\rd") == "a\\x0ab\\x09c\\x0dd");
    CHECK(escape("\x7f") == "\\x7f");
    CHECK(escape("\x1b[31m") == "\\x1b[31m");
    // C1 controls, validly encoded, are controls too.
    CHECK(escape("\xC2\x85") == "\\x85");
    // Text in <pre>: lines and tabs kept, CRLF read as a line end.
    CHECK(escape_pre("a\r\nb\tc\n<d>\re") == "a\nb\tc\n&lt;d&gt;\\x0de");
}

TEST_CASE("html: the output is valid UTF-8 whatever the input", "[web][html]")
{
    struct c {
        const char* label;
        std::string in;
        std::string want;
    };
    auto cs = GENERATE(values<c>({
        {"two-byte", "caf\xC3\xA9", "caf\xC3\xA9"},
        {"three-byte", "\xE2\x82\xAC", "\xE2\x82\xAC"},
        {"four-byte", "\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80"},
        {"lone continuation", "a\x80z", "a\xEF\xBF\xBDz"},
        {"overlong slash", "\xC0\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD"},
        {"overlong three", "\xE0\x80\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
        {"surrogate", "\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
        {"past U+10FFFF", "\xF4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
        {"cut short", "x\xE2\x82", "x\xEF\xBF\xBD\xEF\xBF\xBD"},
        {"latin-1", "gr\xFC\xDF", "gr\xEF\xBF\xBD\xEF\xBF\xBD"},
    }));
    INFO(cs.label);
    CHECK(escape(cs.in) == cs.want);
    CHECK(valid_utf8(escape(cs.in)));
}

TEST_CASE("html: every single byte and byte pair escapes to valid UTF-8 without markup", "[web][html]")
{
    for (int a = 0; a < 256; ++a)
        for (int b = 0; b < 256; b += 7) {
            std::string in{static_cast<char>(a), static_cast<char>(b), '\xE2'};
            for (const auto& out : {escape(in), escape_pre(in)}) {
                REQUIRE(valid_utf8(out));
                REQUIRE(out.find_first_of("<>\"'") == std::string::npos);
            }
        }
}

TEST_CASE("html: the layout escapes the title and user, carries no inline script or style", "[web][html]")
{
    auto page = layout("<b>T</b>", "<p>body</p>", nav_user{"al<i>ce", "admin", "tok\"en"}, "health");
    CHECK(page.starts_with("<!DOCTYPE html>"));
    CHECK(page.find("<meta charset=\"utf-8\">") != std::string::npos);
    CHECK(page.find("&lt;b&gt;T&lt;/b&gt;") != std::string::npos);
    CHECK(page.find("<b>T</b>") == std::string::npos);
    CHECK(page.find("al&lt;i&gt;ce (admin)") != std::string::npos);
    CHECK(page.find("value=\"tok&quot;en\"") != std::string::npos);
    CHECK(page.find("<form id=\"logout\" method=\"post\" action=\"/logout\">") != std::string::npos);
    CHECK(page.find("id=\"nav-health\" href=\"/health\" class=\"active\"") != std::string::npos);
    CHECK(page.find("<p>body</p>") != std::string::npos);
    CHECK(page.find("<script") == std::string::npos);
    CHECK(page.find("style=") == std::string::npos);
    CHECK(page.find("<style") == std::string::npos);
    CHECK(page.find("href=\"/static/style.css\"") != std::string::npos);

    auto anon = layout("Log in", "", std::nullopt);
    CHECK(anon.find("logout") == std::string::npos);
    CHECK(anon.find("nav-health") == std::string::npos);
    CHECK_FALSE(stylesheet.empty());
}

TEST_CASE("svg chart: bars in the window, max label, hour labels, no style attribute", "[web][svg]")
{
    const std::int64_t now = 1'800'000'000;
    std::vector<chart_bucket> b;
    for (int i = 0; i < 288; ++i)
        b.push_back({now - 86400 + i * 300, static_cast<std::uint64_t>(i == 100 ? 42 : i % 3)});
    b.push_back({now - 90000, 999});  // before the window: neither drawn nor the max
    auto svg = svg_bar_chart({"Decisions <24h>", "chart-decisions", now, 300, 86400}, b);
    CHECK(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    CHECK(svg.ends_with("</svg>"));
    CHECK(svg.find("id=\"chart-decisions\"") != std::string::npos);
    CHECK(svg.find("<title>Decisions &lt;24h&gt;</title>") != std::string::npos);
    CHECK(svg.find("class=\"chart-max\"") != std::string::npos);
    CHECK(svg.find(">42</text>") != std::string::npos);
    CHECK(svg.find("999") == std::string::npos);
    CHECK(svg.find(">24 h ago</text>") != std::string::npos);
    CHECK(svg.find(">12 h ago</text>") != std::string::npos);
    CHECK(svg.find(">now</text>") != std::string::npos);
    CHECK(svg.find("style") == std::string::npos);
    CHECK(svg.find("<script") == std::string::npos);
    // Zero buckets draw no bar: 288 buckets, i % 3 == 0 for 96 of them
    // (bucket 100 is 42, and 100 % 3 != 0).
    std::size_t bars = 0;
    for (std::size_t p = svg.find("class=\"bar\""); p != std::string::npos; p = svg.find("class=\"bar\"", p + 1))
        ++bars;
    CHECK(bars == 288 - 96);
}

TEST_CASE("svg chart: no data, hostile id and title", "[web][svg]")
{
    auto svg = svg_bar_chart({"x\"><script>", "a\"b<c", 1000, 300, 86400}, {});
    CHECK(svg.find("no data") != std::string::npos);
    CHECK(svg.find("id=\"abc\"") != std::string::npos);
    CHECK(svg.find("<script") == std::string::npos);
    CHECK(svg.find("class=\"bar\"") == std::string::npos);
}
