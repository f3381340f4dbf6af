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
    auto parse = [](std::vector<std::string_view> a) {
        return apply_args(mxw::base::parse_args(a, {arg_options(), mxw::base::config_args::none}), {});
    };
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

TEST_CASE("plan_reload applies live settings and names those that need a restart", "[milter][reload]")
{
    mxw::milter::milter_options running;
    running.quarantine_db = "/var/lib/mxwarden/quarantine.db";

    auto same = mxw::milter::plan_reload(running, running);
    CHECK(same.applied.empty());
    CHECK(same.restart_needed.empty());

    mxw::milter::milter_options fresh = running;
    fresh.policy = *mxw::proto::parse_endpoint("unix:/run/mxwarden/policy.sock");
    fresh.on_error_tempfail = true;
    fresh.timeout = std::chrono::milliseconds(3000);
    fresh.quarantine_db = "/srv/q.db";
    fresh.quarantine_transport = "hold";
    fresh.max_message_bytes = 1000;
    auto live = mxw::milter::plan_reload(running, fresh);
    CHECK(live.applied == std::vector<std::string>{"milter.policy", "milter.on-error", "milter.timeout",
                                                   "quarantine.database", "routing.quarantine-transport",
                                                   "quarantine.max-message-size"});
    CHECK(live.restart_needed.empty());
    CHECK(live.next.policy == fresh.policy);
    CHECK(live.next.on_error_tempfail);
    CHECK(live.next.timeout == std::chrono::milliseconds(3000));
    CHECK(live.next.quarantine_db == "/srv/q.db");
    CHECK(live.next.quarantine_transport == "hold");
    CHECK(live.next.max_message_bytes == 1000);

    // The socket is open and libmilter listens on it; the log is set up:
    // both keep running as they are until a restart.
    fresh = running;
    fresh.listen = "inet:10099@127.0.0.1";
    fresh.log_syslog = true;
    fresh.timeout = std::chrono::milliseconds(5000);
    auto partly = mxw::milter::plan_reload(running, fresh);
    CHECK(partly.restart_needed == std::vector<std::string>{"milter.listen", "log.target"});
    CHECK(partly.applied == std::vector<std::string>{"milter.timeout"});
    CHECK(partly.next.listen == running.listen);
    CHECK(partly.next.log_syslog == running.log_syslog);
    CHECK(partly.next.timeout == std::chrono::milliseconds(5000));
}
