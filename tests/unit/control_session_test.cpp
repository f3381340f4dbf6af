// The daemon's control session over a real socket pair: it answers one
// request, and it closes a connection whose request does not arrive within
// request_timeout (nothing sent, or half a line), so a stuck client cannot
// hold a connection slot for ever.
#include "net/control_session.hpp"
#include "support/scripted_resolver.hpp"

#include <optional>

using namespace mxw;
using namespace std::chrono_literals;
using stream = asio::local::stream_protocol;

namespace {

struct idle_prober final : engine::prober {
    asio::awaitable<engine::probe_result> probe(const std::string&, std::uint16_t) override
    {
        co_return engine::probe_result{engine::probe_outcome::ok, "", 1ms};
    }
};

struct fixture {
    test::manual_clock clock;
    test::scripted_resolver r;
    idle_prober p;
    engine::health_table health{engine::health_config{}};
    asio::io_context io;
    engine::router router{engine::routing_config{}, r, p, health, clock.fn(), io.get_executor(), 1,
                          [](engine::router::severity, const std::string&) {}};
    engine::policy_engine engine{engine::policy_config{}, r, clock.fn()};
    base::logger log{false, "control_session_test"};
    net::control_service svc{engine, router, log, [](bool) { return std::string("status\n"); }, 200ms};

    struct outcome {
        std::string answer;
        bool closed = false;  // the daemon's side hung up
        std::chrono::steady_clock::duration after{};
    };

    // Starts a session on one end of a pair, writes `request` on the other,
    // and reads until the session closes or `limit` passes.
    outcome talk(const std::string& request, std::chrono::milliseconds limit)
    {
        stream::socket ours(io), theirs(io);
        asio::local::connect_pair(ours, theirs);
        asio::co_spawn(io, net::run_control_session(std::move(theirs), svc), asio::detached);
        outcome out;
        auto start = std::chrono::steady_clock::now();
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                boost::system::error_code ec;
                co_await asio::async_write(ours, asio::buffer(request), asio::redirect_error(asio::use_awaitable, ec));
                co_await asio::async_read(ours, asio::dynamic_buffer(out.answer),
                                          asio::redirect_error(asio::use_awaitable, ec));
                out.closed = ec == asio::error::eof;
                out.after = std::chrono::steady_clock::now() - start;
            },
            asio::detached);
        io.run_for(limit);
        return out;
    }
};

}  // namespace

TEST_CASE("control session: answers one request and closes", "[control]")
{
    fixture f;
    auto out = f.talk("ping\n", 5s);
    CHECK(out.answer == "pong\n");
    CHECK(out.closed);
}

TEST_CASE("control session: a health report of many megabytes goes through whole", "[control]")
{
    // Thousands of hosts make an answer far beyond one socket buffer; the
    // session writes it all before closing.
    fixture f;
    const std::string report(6 * 1024 * 1024, 'h');
    f.svc.health = [&] { return report; };
    auto out = f.talk("health\n", 10s);
    CHECK(out.answer.size() == report.size());
    CHECK(out.answer == report);
    CHECK(out.closed);
}

TEST_CASE("control session: a daemon without a health report says so", "[control]")
{
    fixture f;
    CHECK(f.talk("health\n", 5s).answer == "error: no health report here\n");
}

TEST_CASE("control session: an idle or half-sent request is closed after request_timeout", "[control]")
{
    auto request = GENERATE(as<std::string>{}, "", "stat");
    INFO("sent: '" << request << "'");
    fixture f;
    auto out = f.talk(request, 5s);
    CHECK(out.closed);
    CHECK(out.answer.empty());
    CHECK(out.after >= 200ms);
    CHECK(out.after < 3s);
}
