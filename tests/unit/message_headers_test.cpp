// proto/message_headers regressions found by fuzz_message_headers (the
// ordinary cases are in quarantine_proto_test.cpp).
#include "proto/message_headers.hpp"

#include <catch2/catch.hpp>

using namespace mxw;

TEST_CASE("message_headers: a name that trims to nothing is no field", "[quarantine]")
{
    // The CR before the colon is cut like a trailing blank; it used to leave
    // a field with an empty name for `quarantine show` to print.
    const std::string msg = "\r: empty name\r\nX-A: b\r\n\r\nbody\r\n";
    auto fields = proto::parse_header_fields(msg, 10);
    REQUIRE(fields.size() == 1);
    CHECK(fields[0] == proto::header_field{"X-A", "b"});
    CHECK_FALSE(proto::find_header(msg, ""));
}
