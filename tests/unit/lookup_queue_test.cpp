// The lookup queue: coalescing, the concurrency cap, per-waiter deadlines
// and cancellation, against a fake backend the test completes by hand.
#include "dns/lookup_queue.hpp"

#include <catch2/catch.hpp>

using namespace mxw;
using namespace std::chrono_literals;

namespace {

struct fake_backend final : dns::backend {
    struct call {
        std::string name;
        dns::rrtype type;
        done_fn done;
        int id;
    };
    std::vector<call> calls;
    std::vector<int> cancelled;
    bool refuse = false;
    bool answer_at_once = false;
    int next_id = 1;

    int start(const std::string& name, dns::rrtype type, done_fn done) override
    {
        if (refuse)
            return -1;
        if (answer_at_once) {
            done(ok(name, type));
            return next_id++;
        }
        calls.push_back({name, type, std::move(done), next_id});
        return next_id++;
    }
    void cancel(int id) override { cancelled.push_back(id); }

    static dns::answer ok(const std::string& name, dns::rrtype type)
    {
        dns::answer a;
        a.name = name;
        a.type = type;
        a.st = dns::status::ok;
        a.values = {"192.0.2.1"};
        return a;
    }
};

struct harness {
    asio::io_context io;
    fake_backend backend;
    dns::lookup_queue queue;
    std::vector<std::optional<dns::answer>> results;

    explicit harness(std::size_t cap = 8, std::chrono::milliseconds timeout = 5s)
        : queue(io.get_executor(), backend, timeout, cap)
    {
    }

    /// Starts a lookup whose answer lands in results[index].
    std::size_t spawn(std::string name, std::chrono::milliseconds deadline = 5s)
    {
        std::size_t index = results.size();
        results.emplace_back();
        asio::co_spawn(
            io,
            [this, name = std::move(name), deadline, index]() -> asio::awaitable<void> {
                const std::string n = name;
                results[index] = co_await queue.lookup(n, dns::rrtype::a, dns::clock::now() + deadline);
            },
            asio::detached);
        io.poll();
        return index;
    }
    void settle()
    {
        io.restart();
        io.poll();
    }
};

}  // namespace

TEST_CASE("identical lookups in flight share one upstream query")
{
    harness h;
    auto a = h.spawn("Example.ORG.");
    auto b = h.spawn("example.org");
    REQUIRE(h.backend.calls.size() == 1);
    CHECK(h.backend.calls[0].name == "example.org");
    CHECK(h.queue.stats().coalesced == 1);
    h.backend.calls[0].done(fake_backend::ok("example.org", dns::rrtype::a));
    h.settle();
    REQUIRE(h.results[a]);
    REQUIRE(h.results[b]);
    CHECK(h.results[a]->st == dns::status::ok);
    CHECK(h.results[b]->values == std::vector<std::string>{"192.0.2.1"});
}

TEST_CASE("the cap holds extra queries back until a slot frees")
{
    harness h(2);
    h.spawn("a.example");
    h.spawn("b.example");
    auto c = h.spawn("c.example");
    CHECK(h.backend.calls.size() == 2);
    CHECK(h.queue.stats().queued == 1);
    h.backend.calls[0].done(fake_backend::ok("a.example", dns::rrtype::a));
    h.settle();
    REQUIRE(h.backend.calls.size() == 3);
    CHECK(h.backend.calls[2].name == "c.example");
    h.backend.calls[2].done(fake_backend::ok("c.example", dns::rrtype::a));
    h.settle();
    CHECK(h.results[c]->st == dns::status::ok);
}

TEST_CASE("a waiter ends at its deadline; the last one gone cancels the query")
{
    harness h;
    auto a = h.spawn("silent.example", 30ms);
    REQUIRE(h.backend.calls.size() == 1);
    h.io.restart();
    h.io.run_for(200ms);
    REQUIRE(h.results[a]);
    CHECK(h.results[a]->st == dns::status::timeout);
    CHECK(h.backend.cancelled == std::vector<int>{h.backend.calls[0].id});
    CHECK(h.queue.stats().timeouts == 1);
    CHECK(h.queue.stats().running == 0);
}

TEST_CASE("dns.timeout bounds a lookup even with a later request deadline")
{
    harness h(8, 30ms);
    auto a = h.spawn("silent.example", 10s);
    h.io.restart();
    h.io.run_for(200ms);
    REQUIRE(h.results[a]);
    CHECK(h.results[a]->st == dns::status::timeout);
}

TEST_CASE("an early deadline does not cut a patient waiter short")
{
    harness h;
    auto quick = h.spawn("x.example", 20ms);
    auto patient = h.spawn("x.example", 5s);
    h.io.restart();
    h.io.run_for(100ms);
    CHECK(h.results[quick]->st == dns::status::timeout);
    CHECK_FALSE(h.results[patient]);
    CHECK(h.backend.cancelled.empty());
    h.backend.calls[0].done(fake_backend::ok("x.example", dns::rrtype::a));
    h.settle();
    CHECK(h.results[patient]->st == dns::status::ok);
}

TEST_CASE("a query the backend refuses answers SERVFAIL")
{
    harness h;
    h.backend.refuse = true;
    auto a = h.spawn("x.example");
    h.settle();
    REQUIRE(h.results[a]);
    CHECK(h.results[a]->st == dns::status::servfail);
}

TEST_CASE("a backend that answers inside start() is handled")
{
    harness h;
    h.backend.answer_at_once = true;
    auto a = h.spawn("x.example");
    h.settle();
    REQUIRE(h.results[a]);
    CHECK(h.results[a]->st == dns::status::ok);
    CHECK(h.queue.stats().running == 0);
}

TEST_CASE("invalid names never reach the backend")
{
    harness h;
    auto a = h.spawn("");
    auto b = h.spawn(std::string(300, 'a'));
    h.settle();
    CHECK(h.results[a]->st == dns::status::servfail);
    CHECK(h.results[b]->st == dns::status::servfail);
    CHECK(h.backend.calls.empty());
}
