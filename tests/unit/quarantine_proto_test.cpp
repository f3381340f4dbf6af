// Tests for the pure helpers behind the quarantine: SHA-256 (the delivery
// fingerprint), envelope address checks, header extraction, the release
// argv and tracking header, SMTP DATA encoding and the evidence indenter.
#include "proto/json_indent.hpp"
#include "proto/limits.hpp"
#include "proto/mail_address.hpp"
#include "proto/message_headers.hpp"
#include "proto/reinjection.hpp"
#include "proto/sha256.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace std::string_literals;
namespace proto = mxw::proto;

TEST_CASE("sha256 matches the FIPS 180-4 examples for any split", "[quarantine]")
{
    CHECK(proto::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(proto::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    CHECK(proto::sha256_hex(two_blocks) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const std::string million(1000000, 'a');
    CHECK(proto::sha256_hex(million) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    for (std::size_t cut : {0u, 1u, 27u, 55u, 56u}) {
        proto::sha256 h;
        h.update(std::string_view(two_blocks).substr(0, cut));
        h.update(std::string_view(two_blocks).substr(cut));
        auto d = h.finish();
        CHECK(d[0] == 0x24);
        CHECK(d[31] == 0xc1);
    }
}

TEST_CASE("envelope addresses that could change a command line are refused", "[quarantine]")
{
    CHECK_FALSE(proto::check_envelope_address("bob@example.org", false));
    CHECK_FALSE(proto::check_envelope_address("\"john doe\"@example.org", false));
    CHECK_FALSE(proto::check_envelope_address("j\xc3\xb6rg@example.org", false));
    CHECK_FALSE(proto::check_envelope_address("", true));
    CHECK(proto::check_envelope_address("", false));
    CHECK(proto::check_envelope_address("-oQ/tmp@example.org", false) == "starts with '-'");
    CHECK(proto::check_envelope_address("a@b\r\nRCPT TO:<x@y>", false));
    CHECK(proto::check_envelope_address("a@b\n", false));
    CHECK(proto::check_envelope_address("a@b\x7f", false));
    CHECK(proto::check_envelope_address("a b@example.org", false));
    CHECK(proto::check_envelope_address("a@b> SIZE=1", false));
    CHECK(proto::check_envelope_address("\"open@example.org", false));
    const std::string at_limit = std::string(proto::max_envelope_address_bytes - 12, 'a') + "@example.org";
    CHECK_FALSE(proto::check_envelope_address(at_limit, false));
    CHECK(proto::check_envelope_address(at_limit + "x", false));

    CHECK(proto::address_domain("Bob@Example.ORG") == "example.org");
    CHECK(proto::address_domain("postmaster").empty());
    CHECK(proto::normalize_sender("<>").empty());
    CHECK(proto::normalize_sender("<a@b>") == "a@b");
    CHECK(proto::normalize_sender("a@b") == "a@b");
}

TEST_CASE("header fields are unfolded, found case-blind and end at the body", "[quarantine]")
{
    const std::string msg = "Return-Path: <a@b>\r\nSubject: one\r\n\ttwo  \r\nsubject: second\r\nno colon here\r\n"
                            "From: A <a@b>\r\n\r\nX-In-Body: no\r\n";
    CHECK(proto::find_header(msg, "SUBJECT") == "one two");
    CHECK(proto::find_header(msg, "from") == "A <a@b>");
    CHECK_FALSE(proto::find_header(msg, "X-In-Body"));
    auto all = proto::parse_header_fields(msg, 10);
    REQUIRE(all.size() == 4);
    CHECK(all[0] == proto::header_field{"Return-Path", "<a@b>"});
    CHECK(all[2] == proto::header_field{"subject", "second"});
    CHECK(proto::parse_header_fields(msg, 2).size() == 2);
    CHECK(proto::parse_header_fields("", 10).empty());
    CHECK(proto::parse_header_fields("\nSubject: body\n", 10).empty());
    CHECK(proto::find_header("Subject: x", "subject") == "x");
    CHECK(proto::find_header("Subject:\n", "subject") == "");
    // Past the scanned header section a field is not found.
    std::string huge = std::string(proto::max_header_section_bytes, 'x') + "\nSubject: late\n\n";
    CHECK_FALSE(proto::find_header("X-Pad: " + huge, "subject"));
}

TEST_CASE("release argv keeps every address out of option position", "[quarantine]")
{
    std::vector<std::string> rcpts{"b@example.org", "c@example.org"};
    CHECK(proto::sendmail_argv("/usr/sbin/sendmail", "a@example.org", rcpts) ==
          std::vector<std::string>{"/usr/sbin/sendmail", "-i", "-f", "a@example.org", "--", "b@example.org",
                                   "c@example.org"});
    CHECK(proto::sendmail_argv("/usr/sbin/sendmail", "", rcpts)[3] == "<>");
}

TEST_CASE("the tracking header is prepended in the message's own line ends and read back", "[quarantine]")
{
    CHECK(proto::with_quarantine_id("Subject: x\n\nbody\n", 42) == "X-Mxwarden-Quarantine-Id: 42\nSubject: x\n\nbody\n");
    CHECK(proto::with_quarantine_id("Subject: x\r\n\r\n", 7) == "X-Mxwarden-Quarantine-Id: 7\r\nSubject: x\r\n\r\n");
    CHECK(proto::parse_quarantine_id(proto::with_quarantine_id("Subject: x\n\nb\n", 42)) == 42);
    CHECK(proto::parse_quarantine_id("Received: by x\nx-mxwarden-quarantine-id: 9\nX-Mxwarden-Quarantine-Id: 3\n\n") == 9);
    CHECK_FALSE(proto::parse_quarantine_id("X-Mxwarden-Quarantine-Id: 4x\n\n"));
    CHECK_FALSE(proto::parse_quarantine_id("X-Mxwarden-Quarantine-Id: 0\n\n"));
    CHECK_FALSE(proto::parse_quarantine_id("X-Mxwarden-Quarantine-Id: 99999999999999999999\n\n"));
    CHECK_FALSE(proto::parse_quarantine_id("Subject: x\n\nX-Mxwarden-Quarantine-Id: 5\n"));
}

TEST_CASE("SMTP DATA is dot-stuffed with CRLF line ends and terminated", "[quarantine]")
{
    CHECK(proto::encode_smtp_data("a\n.b\n..c\nd") == "a\r\n..b\r\n...c\r\nd\r\n.\r\n");
    CHECK(proto::encode_smtp_data(".\n") == "..\r\n.\r\n");
    CHECK(proto::encode_smtp_data("x\r\n.\r\ny\r\n") == "x\r\n..\r\ny\r\n.\r\n");
    // A bare CR or LF never reaches the wire (SMTP smuggling).
    CHECK(proto::encode_smtp_data("a\rb\n\r\n.") == "a\r\nb\r\n\r\n..\r\n.\r\n");
    CHECK(proto::encode_smtp_data("") == ".\r\n");
    CHECK(proto::has_8bit("caf\xc3\xa9"));
    CHECK_FALSE(proto::has_8bit("plain"));
}

TEST_CASE("evidence JSON is indented, and refused when not whole", "[quarantine]")
{
    CHECK(proto::indent_json(R"({"a":[1,{"b":"x,y{"}],"c":{}})") ==
          "{\n  \"a\": [\n    1,\n    {\n      \"b\": \"x,y{\"\n    }\n  ],\n  \"c\": {}\n}");
    CHECK(proto::indent_json("[]") == "[]");
    CHECK(proto::indent_json(R"({"s":"q\"}"})") == "{\n  \"s\": \"q\\\"}\"\n}");
    CHECK_FALSE(proto::indent_json(R"({"a":1)"));
    CHECK_FALSE(proto::indent_json(R"({"a":"open})"));
    CHECK_FALSE(proto::indent_json(R"({"a":1]})"));
    CHECK_FALSE(proto::indent_json(R"({}{})"));
    CHECK_FALSE(proto::indent_json("error: no such domain"));
    CHECK_FALSE(proto::indent_json(""));
}
