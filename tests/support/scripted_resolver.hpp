// tests/support/scripted_resolver.hpp: a resolver that answers from a script.
// Any lookup the test did not declare fails the test (unbound's replay
// strictness); every lookup is recorded so tests can assert query counts and
// order. Lookups can advance a manual clock to model slow servers. Never
// shipped in the daemon.
#pragma once
#include "dns/resolver.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace mxw::test {

struct manual_clock {
    dns::clock::time_point now = dns::clock::time_point(std::chrono::hours(1000));
    auto fn()
    {
        return [this] { return now; };
    }
};

class scripted_resolver final : public dns::resolver {
public:
    explicit scripted_resolver(manual_clock* clock = nullptr) : clock_(clock) {}

    void answer(const std::string& name, dns::rrtype type, dns::status st, std::uint32_t ttl = 300)
    {
        dns::answer a;
        a.name = name;
        a.type = type;
        a.st = st;
        a.ttl = ttl;
        script_[{name, type}] = a;
    }
    void mx(const std::string& name, std::vector<proto::mx_rdata> hosts, std::uint32_t ttl = 300)
    {
        answer(name, dns::rrtype::mx, dns::status::ok, ttl);
        script_[{name, dns::rrtype::mx}].mx = std::move(hosts);
    }
    void values(const std::string& name, dns::rrtype type, std::vector<std::string> v, std::uint32_t ttl = 300)
    {
        answer(name, type, dns::status::ok, ttl);
        script_[{name, type}].values = std::move(v);
    }
    /// Every lookup moves the manual clock forward by `d` (a slow server).
    void cost_per_lookup(std::chrono::milliseconds d) { cost_ = d; }

    asio::awaitable<dns::answer> lookup(const std::string& name, dns::rrtype type,
                                        dns::clock::time_point deadline) override
    {
        queries.push_back(std::string(dns::to_string(type)) + " " + name);
        auto it = script_.find({name, type});
        if (it == script_.end())
            throw std::logic_error("unscripted lookup: " + queries.back());
        dns::answer a = it->second;
        if (clock_) {
            clock_->now += cost_;
            // Like the real queue: an answer later than the deadline is a timeout.
            if (clock_->now >= deadline) {
                a = dns::answer{};
                a.name = name;
                a.type = type;
                a.st = dns::status::timeout;
            }
        }
        co_return a;
    }

    std::vector<std::string> queries;

private:
    manual_clock* clock_;
    std::chrono::milliseconds cost_{0};
    std::map<std::pair<std::string, dns::rrtype>, dns::answer> script_;
};

/// Runs a coroutine to completion on a private io_context; rethrows.
template <class T>
T run(asio::awaitable<T> aw)
{
    asio::io_context io;
    std::optional<T> result;
    std::exception_ptr error;
    asio::co_spawn(io, std::move(aw), [&](std::exception_ptr e, T v) {
        error = e;
        if (!e)
            result = std::move(v);
    });
    io.run();
    if (error)
        std::rethrow_exception(error);
    return std::move(*result);
}

}  // namespace mxw::test
