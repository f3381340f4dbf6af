// The daemon's link to the fleet's shared state (issue 12), against a
// scripted fleet_state on one io_context that is both loop and store
// thread: batching, no echo, the bounded queue and the reconnect backoff
// while the database is away.
#include "daemon/fleet_link.hpp"

#include <catch2/catch.hpp>

using namespace mxw;
using namespace std::chrono_literals;

namespace {

class down_error : public store::store_error {
public:
    down_error() : store_error("connection refused") {}
    [[nodiscard]] bool transient() const noexcept override { return true; }
};

/// The database as the test scripts it; what the link did is kept in `log`.
struct scripted_db {
    bool down = false;
    int opens = 0;
    std::vector<std::chrono::steady_clock::time_point> attempts;
    std::vector<std::vector<store::shared_observation>> published;
    std::vector<std::vector<store::saved_route>> saved;
    std::vector<store::shared_observation> pending;  ///< what the next fetch returns
    int fetches = 0;
};

class scripted_state : public store::fleet_state {
public:
    explicit scripted_state(scripted_db& db) : db_(db) {}
    void publish(const std::vector<store::shared_observation>& batch) override
    {
        check();
        db_.published.push_back(batch);
    }
    std::vector<store::shared_observation> fetch(store::fleet_cursor& from, std::size_t limit) override
    {
        check();
        ++db_.fetches;
        std::vector<store::shared_observation> out;
        while (!db_.pending.empty() && out.size() < limit) {
            out.push_back(db_.pending.front());
            db_.pending.erase(db_.pending.begin());
            ++from.seq;
        }
        return out;
    }
    void save_routes(const std::vector<store::saved_route>& batch) override
    {
        check();
        db_.saved.push_back(batch);
    }
    std::vector<store::saved_route> load_routes(std::size_t) override { return {}; }

private:
    void check()
    {
        if (db_.down)
            throw down_error();
    }
    scripted_db& db_;
};

struct fixture {
    asio::io_context io{1};
    scripted_db db;
    std::vector<std::string> events;
    std::vector<store::shared_observation> received;
    daemon::fleet_link link;

    explicit fixture(daemon::fleet_settings s, bool connected = true)
        : link(io.get_executor(), io.get_executor(), opener(),
               connected ? std::make_unique<scripted_state>(db) : nullptr, "mta-2", {}, s,
               [this](std::vector<store::shared_observation> v) {
                   received.insert(received.end(), v.begin(), v.end());
               },
               [this](base::log_level, const std::string& line) { events.push_back(line.substr(0, line.find(' '))); })
    {
    }

    daemon::fleet_link::opener opener()
    {
        return [this] {
            db.attempts.push_back(std::chrono::steady_clock::now());
            if (db.down)
                throw down_error();
            ++db.opens;
            return std::make_unique<scripted_state>(db);
        };
    }

    template <typename Pred>
    bool run_until(Pred done, std::chrono::milliseconds limit = 2000ms)
    {
        auto until = std::chrono::steady_clock::now() + limit;
        while (!done() && std::chrono::steady_clock::now() < until)
            io.run_one_for(5ms);
        return done();
    }
};

daemon::fleet_settings fast()
{
    daemon::fleet_settings s;
    s.flush_interval = 2ms;
    s.poll_interval = 2ms;
    s.retry_min = 20ms;
    s.retry_max = 80ms;
    return s;
}

store::shared_observation seen(std::string address, std::string node = "")
{
    return {.address = std::move(address), .node = std::move(node), .at_ms = 1000, .source = "probe",
            .ok = false, .outcome = "banner-timeout", .stage = "greeting", .detail = ""};
}

std::size_t published_count(const scripted_db& db)
{
    std::size_t n = 0;
    for (const auto& b : db.published)
        n += b.size();
    return n;
}

}  // namespace

TEST_CASE("fleet_link: observations go out in batches, in order", "[fleet]")
{
    auto s = fast();
    s.flush_interval = 50ms;
    s.max_batch = 4;
    fixture f(s);
    f.link.start();
    for (int i = 0; i < 10; ++i)
        f.link.publish(seen("192.0.2." + std::to_string(i)));
    store::saved_route route;
    route.destination = "example.com";
    route.hosts = {{10, "mx.example.com", {"192.0.2.1"}}};
    f.link.save_route(route);
    REQUIRE(f.run_until([&] { return f.link.counts().sent == 10 && !f.db.saved.empty(); }));
    // Full batches go one after the other; the rest at the next flush.
    CHECK(f.db.published.size() == 3);
    CHECK(f.db.published.front().size() == 4);
    CHECK(f.db.published.front().front().address == "192.0.2.0");
    CHECK(f.db.published.back().back().address == "192.0.2.9");
    CHECK(f.db.saved.front().front().destination == "example.com");
    CHECK(f.link.counts().sent == 10);
    CHECK(f.link.counts().up);
    f.link.stop();
}

TEST_CASE("fleet_link: other nodes' observations reach the health table and never go out again", "[fleet]")
{
    fixture f(fast());
    engine::health_table health(engine::health_config{});
    const auto now = engine::health_table::time_point(100h);
    health.on_local_observation([&](const std::string& a, const engine::observation& o) {
        f.link.publish(daemon::to_shared(a, o, 5000));
    });
    f.db.pending = {seen("192.0.2.1", "mta-1"), seen("192.0.2.2", "mta-2")};  // the second is this node's own
    f.link.start();
    REQUIRE(f.run_until([&] { return f.db.fetches >= 2; }));
    for (const auto& s : f.received)
        if (auto r = daemon::from_shared(s, 4000, now))
            health.observe(r->address, r->what, r->at);
    REQUIRE(f.received.size() == 1);
    CHECK(f.link.counts().received == 1);
    CHECK(health.state("192.0.2.1") == engine::health_state::dead);
    CHECK(health.find("192.0.2.1")->recent.back().what.node == "mta-1");
    CHECK(health.find("192.0.2.1")->observed_at == now - 3s);  // made at 1000 ms, now is 4000 ms
    CHECK(health.find("192.0.2.2") == nullptr);

    // A local probe of the same host goes out; the remote one never did.
    health.record("192.0.2.1", {engine::probe_outcome::ok, "220 hi", 1ms}, now);
    REQUIRE(f.run_until([&] { return published_count(f.db) == 1; }));
    f.run_until([] { return false; }, 20ms);
    CHECK(published_count(f.db) == 1);
    CHECK(f.db.published.front().front().outcome == "ok");
    CHECK(f.db.published.front().front().node.empty());
    f.link.stop();
}

TEST_CASE("fleet_link: peer text is cut to size and unknown sources are skipped", "[fleet]")
{
    const auto now = engine::health_table::time_point(100h);
    auto s = seen("192.0.2.1", "mta-1");
    s.detail = std::string(100000, 'x');
    s.at_ms = 9000;  // a little ahead of this node's clock: taken as now
    auto r = daemon::from_shared(s, 8000, now);
    REQUIRE(r);
    CHECK(r->what.detail.size() == 512);
    CHECK(r->at == now);
    s.source = "telepathy";
    CHECK_FALSE(daemon::from_shared(s, 8000, now));
    s.source = "delivery";
    s.address = std::string(1000, '1');
    CHECK_FALSE(daemon::from_shared(s, 8000, now));
}

TEST_CASE("fleet_link: a database away keeps the newest, backs off, and catches up", "[fleet]")
{
    auto s = fast();
    s.max_queued = 5;
    fixture f(s, false);
    f.db.down = true;
    f.link.start();
    for (int i = 0; i < 8; ++i)
        f.link.publish(seen("192.0.2." + std::to_string(i)));
    REQUIRE(f.run_until([&] { return f.db.attempts.size() >= 3; }));
    CHECK_FALSE(f.link.counts().up);
    CHECK(f.link.counts().dropped == 3);
    CHECK(f.events == std::vector<std::string>{"event=store-down"});  // said once, not per attempt
    // Doubling: 20 ms, then 40 ms between attempts (the ticks add a little).
    CHECK(f.db.attempts[1] - f.db.attempts[0] >= 20ms);
    CHECK(f.db.attempts[2] - f.db.attempts[1] >= 40ms);

    f.db.down = false;
    REQUIRE(f.run_until([&] { return f.link.counts().up && published_count(f.db) == 5; }));
    CHECK(f.db.opens == 1);
    CHECK(f.db.published.front().front().address == "192.0.2.3");  // the oldest three went
    CHECK(f.events == std::vector<std::string>{"event=store-down", "event=store-up"});

    // Down again mid-run: the handle is dropped and opened anew.
    f.db.down = true;
    f.link.publish(seen("192.0.2.9"));
    REQUIRE(f.run_until([&] { return !f.link.counts().up; }));
    f.db.down = false;
    REQUIRE(f.run_until([&] { return published_count(f.db) == 6; }));
    CHECK(f.db.opens == 2);
    f.link.stop();
}
