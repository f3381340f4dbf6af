// Tests for milter/milter_options: mxwarden-milter's own flags, their
// defaults and every kind of bad value.
#include "milter/milter_options.hpp"

#include <catch2/catch.hpp>

#include <string_view>
#include <vector>

using namespace mxw::milter;
namespace proto = mxw::proto;

TEST_CASE("milter command line", "[milter]")
{
    auto parse = [](std::vector<std::string_view> a) { return parse_options(a); };
    auto d = parse({});
    REQUIRE(d.error.empty());
    CHECK(d.options.listen == "inet:10042@127.0.0.1");
    CHECK(proto::to_string(d.options.policy) == "inet:127.0.0.1:10040");
    CHECK_FALSE(d.options.on_error_tempfail);
    CHECK(d.options.timeout == std::chrono::seconds(8));

    auto p = parse({"--listen", "unix:/run/m.sock", "--policy=unix:/run/p.sock", "--on-error", "tempfail",
                    "--timeout=500ms", "--quarantine-db", "/var/lib/q.db", "--quarantine-transport", "hold",
                    "--max-message-size", "1000"});
    REQUIRE(p.error.empty());
    CHECK(p.options.listen == "unix:/run/m.sock");
    CHECK(p.options.policy.path == "/run/p.sock");
    CHECK(p.options.on_error_tempfail);
    CHECK(p.options.timeout == std::chrono::milliseconds(500));
    CHECK(p.options.quarantine_db == "/var/lib/q.db");
    CHECK(p.options.quarantine_transport == "hold");
    CHECK(p.options.max_message_bytes == 1000);

    for (std::vector<std::string_view> bad : std::vector<std::vector<std::string_view>>{
             {"--listen", "10042"}, {"--policy", "127.0.0.1:10040"}, {"--on-error", "maybe"}, {"--timeout", "0s"},
             {"--timeout", "soon"}, {"--quarantine-db", "relative.db"}, {"--quarantine-transport", "a:b"},
             {"--max-message-size", "0"}, {"--max-message-size", "12k"}, {"--bogus", "x"}, {"--policy"}, {"stray"}}) {
        INFO(bad.front());
        CHECK_FALSE(parse(bad).error.empty());
    }
    CHECK(parse({"--help"}).help);
    CHECK(parse({"--version"}).version);
}
