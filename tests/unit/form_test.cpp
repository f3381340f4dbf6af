#include "proto/form.hpp"

#include <catch2/catch.hpp>

using namespace mxw::proto;

TEST_CASE("form: fields in order, + and %XX decoded, repeats kept", "[form]")
{
    auto f = parse_form("q=a+b%26c&id=1&&id=2&flag");
    REQUIRE(f);
    REQUIRE(f->size() == 4);
    CHECK(form_value(*f, "q") == "a b&c");
    CHECK(form_values(*f, "id") == std::vector<std::string>{"1", "2"});
    CHECK(form_value(*f, "flag") == "");
    CHECK_FALSE(form_value(*f, "missing"));
    CHECK(parse_form("")->empty());
}

TEST_CASE("form: a bad escape makes the whole form malformed", "[form]")
{
    CHECK_FALSE(parse_form("a=%zz"));
    CHECK_FALSE(parse_form("a=%4"));
    CHECK_FALSE(parse_form("a=1&b=%"));
    CHECK(form_decode("%00") == std::string(1, '\0'));
}

TEST_CASE("form: caps on bytes and fields", "[form]")
{
    std::string at_cap(max_form_bytes, 'a');
    CHECK(parse_form(at_cap));
    CHECK_FALSE(parse_form(at_cap + "a"));
    std::string fields;
    for (std::size_t i = 0; i < max_form_fields; ++i)
        fields += "a&";
    CHECK(parse_form(fields));
    CHECK_FALSE(parse_form(fields + "b"));
}

TEST_CASE("form: encode keeps unreserved bytes and round-trips the rest", "[form]")
{
    CHECK(form_encode("a-b.c_d~9") == "a-b.c_d~9");
    CHECK(form_encode("<x y>&") == "%3Cx%20y%3E%26");
    std::string all;
    for (int c = 0; c < 256; ++c)
        all += static_cast<char>(c);
    CHECK(form_decode(form_encode(all)) == all);
}

TEST_CASE("cookies: pieces, spaces, quotes and caps", "[form]")
{
    auto c = parse_cookies("mxw_session=abc;  theme=\"dark\" ;junk; x=");
    REQUIRE(c);
    REQUIRE(c->size() == 3);
    CHECK(form_value(*c, "mxw_session") == "abc");
    CHECK(form_value(*c, "theme") == "dark");
    CHECK(form_value(*c, "x") == "");
    std::string many;
    for (std::size_t i = 0; i < max_cookies; ++i)
        many += "a=1; ";
    CHECK(parse_cookies(many));
    CHECK_FALSE(parse_cookies(many + "b=2"));
    CHECK_FALSE(parse_cookies(std::string(max_http_head_bytes + 1, 'x')));
}
