// Tests for proto/sanitize (log-safe text) and proto/json (the --json
// writer). Both take peer-controlled bytes, so every byte value is tried:
// a log line must split back into the same key=value pairs, and a JSON
// document must parse whatever went in. The JSON check uses a small string
// decoder below rather than a library, to keep the unit tests hermetic.
#include "proto/json.hpp"
#include "proto/limits.hpp"
#include "proto/sanitize.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

using namespace std::string_literals;
namespace proto = mxw::proto;

namespace {

// Splits "k=v k2="v 2"" the way a log reader would: pairs are separated by
// spaces, a value in double quotes runs to the next unescaped quote.
std::vector<std::pair<std::string, std::string>> split_pairs(const std::string& line)
{
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t i = 0;
    while (i < line.size()) {
        std::size_t eq = line.find('=', i);
        if (eq == std::string::npos)
            return {};
        std::string key = line.substr(i, eq - i);
        std::string value;
        i = eq + 1;
        if (i < line.size() && line[i] == '"') {
            for (++i; i < line.size() && line[i] != '"'; ++i) {
                if (line[i] == '\\')
                    value.push_back(line[i++]);
                value.push_back(line[i]);
            }
            ++i;  // the closing quote
        } else {
            for (; i < line.size() && line[i] != ' '; ++i)
                value.push_back(line[i]);
        }
        out.emplace_back(key, value);
        if (i < line.size() && line[i] == ' ')
            ++i;
    }
    return out;
}

// Decodes one JSON string literal (RFC 8259 §7) starting at s[0] == '"';
// nullopt if it is malformed. Code points above 0xff cannot occur in what
// json_writer emits for single bytes, so they are kept as '?'.
std::optional<std::string> json_string(const std::string& s)
{
    if (s.size() < 2 || s.front() != '"' || s.back() != '"')
        return std::nullopt;
    std::string out;
    for (std::size_t i = 1; i + 1 < s.size(); ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c >= 0x80 || c == '"')  // raw control, non-ASCII or stray quote
            return std::nullopt;
        if (c != '\\') {
            out.push_back(static_cast<char>(c));
            continue;
        }
        if (++i + 1 >= s.size())
            return std::nullopt;
        switch (s[i]) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
            if (i + 4 >= s.size() - 1)  // four hex digits before the closing quote
                return std::nullopt;
            unsigned v = 0;
            for (int k = 1; k <= 4; ++k) {
                char h = s[i + k];
                v <<= 4;
                if (h >= '0' && h <= '9') v |= static_cast<unsigned>(h - '0');
                else if (h >= 'a' && h <= 'f') v |= static_cast<unsigned>(h - 'a' + 10);
                else if (h >= 'A' && h <= 'F') v |= static_cast<unsigned>(h - 'A' + 10);
                else return std::nullopt;
            }
            out.push_back(v <= 0xff ? static_cast<char>(v) : '?');
            i += 4;
            break;
        }
        default: return std::nullopt;
        }
    }
    return out;
}

std::string json_of(std::string_view v)
{
    proto::json_writer w;
    w.value(v);
    return w.str();
}

std::string all_bytes()
{
    std::string s;
    for (int b = 0; b < 256; ++b)
        s.push_back(static_cast<char>(b));
    return s;
}

}  // namespace

TEST_CASE("sanitize keeps printable ASCII and escapes everything else", "[sanitize]")
{
    struct tcase {
        const char* label;
        std::string in;
        std::string want;
    };
    auto c = GENERATE(values<tcase>({
        {"plain text", "mail.example.org", "mail.example.org"},
        {"space kept", "a b", "a b"},
        {"empty", "", ""},
        {"double quote", "a\"b", "a\\\"b"},
        {"backslash", "a\\b", "a\\\\b"},
        {"CR LF TAB", "a\r\n\tb", "a\\x0d\\x0a\\x09b"},
        {"NUL", "a\0b"s, "a\\x00b"},
        {"DEL and high bytes", "\x7f\x80\xff", "\\x7f\\x80\\xff"},
        {"UTF-8 is bytes too", "\xc3\xa9", "\\xc3\\xa9"},
        {"escape lookalike stays distinct", "\\x0a", "\\\\x0a"},
    }));
    INFO(c.label);
    CHECK(proto::sanitize(c.in) == c.want);
}

TEST_CASE("sanitize cuts after max input bytes and marks the cut", "[sanitize][limits]")
{
    constexpr auto max = proto::max_logged_value_bytes;
    CHECK(proto::sanitize(std::string(max, 'a')) == std::string(max, 'a'));
    CHECK(proto::sanitize(std::string(max + 1, 'a')) == std::string(max, 'a') + "...");
    CHECK(proto::sanitize("abcdef", 3) == "abc...");
    CHECK(proto::sanitize("abc", 3) == "abc");
    CHECK(proto::sanitize("a", 0) == "...");
    CHECK(proto::sanitize("", 0).empty());
    // The limit counts input bytes, so escapes may make the output longer.
    CHECK(proto::sanitize("\n\n\n", 2) == "\\x0a\\x0a...");
}

TEST_CASE("log_value quotes only when a value could split the line", "[sanitize]")
{
    struct tcase {
        const char* label;
        std::string in;
        std::string want;
    };
    auto c = GENERATE(values<tcase>({
        {"plain", "example.org", "example.org"},
        {"empty is quoted", "", "\"\""},
        {"space is quoted", "a b", "\"a b\""},
        {"'=' is quoted", "a=b", "\"a=b\""},
        {"quote is escaped and quoted", "a\"b", "\"a\\\"b\""},
        {"LF escaped, not quoted", "a\nb", "a\\x0ab"},
        {"TAB escaped, not quoted", "a\tb", "a\\x09b"},
        {"truncated value keeps its quotes", std::string(300, ' '), '"' + std::string(200, ' ') + "...\""},
    }));
    INFO(c.label);
    CHECK(proto::log_value(c.in) == c.want);
}

TEST_CASE("a log line of log_values splits back into the same pairs", "[sanitize]")
{
    auto v = GENERATE(as<std::string>{}, "", " ", "=", "a=b c=d", "\"", "x\" y=\"z", "\\\" a=", "\\", "a\\",
                      "\r\n client=evil", all_bytes());
    std::string line = "id=1 value=" + proto::log_value(v) + " end=" + proto::log_value("x");
    auto pairs = split_pairs(line);
    REQUIRE(pairs.size() == 3);
    CHECK(pairs[0] == std::pair("id"s, "1"s));
    CHECK(pairs[1] == std::pair("value"s, proto::sanitize(v)));
    CHECK(pairs[2] == std::pair("end"s, "x"s));
}

TEST_CASE("to_lower folds ASCII only", "[sanitize]")
{
    CHECK(proto::to_lower("MAIL.Example.ORG") == "mail.example.org");
    CHECK(proto::to_lower("0-9_@[]") == "0-9_@[]");
    CHECK(proto::to_lower("\xc3\x89\xff") == "\xc3\x89\xff");
    CHECK(proto::to_lower("A\0B"s) == "a\0b"s);
    CHECK(proto::to_lower("").empty());
}

TEST_CASE("json_writer nests objects and arrays with commas in the right places", "[json]")
{
    proto::json_writer w;
    w.begin_object()
        .key("a").value(std::int64_t{1})
        .key("b").begin_array().value(true).value(false).value("x").end_array()
        .key("c").begin_object().key("d").value("e").end_object()
        .key("f").begin_array().end_array()
        .key("g").begin_object().end_object()
        .key("h").begin_array()
            .begin_object().key("i").value(std::int64_t{-2}).end_object()
            .begin_object().end_object()
            .begin_array().value(std::int64_t{3}).end_array()
        .end_array()
    .end_object();
    CHECK(w.str() == R"({"a":1,"b":[true,false,"x"],"c":{"d":"e"},"f":[],"g":{},"h":[{"i":-2},{},[3]]})");
}

TEST_CASE("json_writer writes top-level arrays and extreme integers", "[json]")
{
    proto::json_writer w;
    w.begin_array()
        .value(std::numeric_limits<std::int64_t>::min())
        .value(std::numeric_limits<std::int64_t>::max())
        .value(std::int64_t{0})
        .value("")
    .end_array();
    CHECK(w.str() == R"([-9223372036854775808,9223372036854775807,0,""])");
}

TEST_CASE("json_writer escapes strings", "[json]")
{
    struct tcase {
        const char* label;
        std::string in;
        std::string want;
    };
    auto c = GENERATE(values<tcase>({
        {"plain", "mx.example.org", R"("mx.example.org")"},
        {"quote", "a\"b", R"("a\"b")"},
        {"backslash", "a\\b", R"("a\\b")"},
        {"control bytes", "\n\t\x01\x1f", R"("\u000a\u0009\u0001\u001f")"},
        {"NUL", "a\0b"s, R"("a\u0000b")"},
        {"DEL", "\x7f", R"("\u007f")"},
        {"non-ASCII bytes, one escape each", "\xc3\xa9\xff", R"("\u00c3\u00a9\u00ff")"},
        {"slash needs no escape", "a/b", R"("a/b")"},
    }));
    INFO(c.label);
    CHECK(json_of(c.in) == c.want);
}

TEST_CASE("json_writer escapes keys like values", "[json]")
{
    proto::json_writer w;
    w.begin_object().key("k\"\n").value("v").end_object();
    CHECK(w.str() == R"({"k\"\u000a":"v"})");
}

TEST_CASE("json_writer output is a valid JSON string for every byte", "[json]")
{
    // Each byte must come back as the code point of the same value: the
    // writer does not guess at encodings, so nothing is lost or merged.
    auto in = GENERATE(as<std::string>{}, all_bytes(), "\xc3", "\"\\\"\\", "\x80\x80\x80", "tail\\");
    auto decoded = json_string(json_of(in));
    REQUIRE(decoded.has_value());
    CHECK(*decoded == in);
}
