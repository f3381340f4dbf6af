// The health table's one input (issue 11): probes and Postfix's deliveries
// feed observe(); deliveries that fail after the greeting make a host dead
// that probes alone cannot revive; `route` shows the recent observations.
#include "engine/health.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace mxw;
using namespace std::chrono_literals;
using engine::health_source;
using engine::health_state;
using engine::observation;
using engine::probe_outcome;

namespace {

const auto t0 = engine::health_table::time_point(1000h);

engine::health_config config(std::uint32_t delivery_failures = 1)
{
    engine::health_config hc;
    hc.healthy_ttl = 600s;
    hc.dead_backoff = 60s;
    hc.max_backoff = 3600s;
    hc.delivery_failures = delivery_failures;
    return hc;
}

observation delivery(bool ok, std::string outcome, std::string stage = "")
{
    return {health_source::delivery, ok, std::move(outcome), std::move(stage), "detail", ""};
}

void probe(engine::health_table& h, const std::string& addr, probe_outcome o, engine::health_table::time_point at)
{
    h.record(addr, {o, "220 hi", 1ms}, at);
}

}  // namespace

TEST_CASE("health: a probe result is an observation with a stage", "[health]")
{
    auto ok = engine::to_observation({probe_outcome::ok, "220 hi", 1ms});
    CHECK(ok.source == health_source::probe);
    CHECK(ok.ok);
    CHECK(ok.outcome == "ok");
    CHECK(ok.stage.empty());
    CHECK(engine::to_observation({probe_outcome::refused, "", 1ms}).stage == "connect");
    CHECK(engine::to_observation({probe_outcome::connect_timeout, "", 1ms}).stage == "connect");
    auto t = engine::to_observation({probe_outcome::banner_timeout, "", 1ms});
    CHECK_FALSE(t.ok);
    CHECK(t.outcome == "banner-timeout");
    CHECK(t.stage == "greeting");
}

TEST_CASE("health: record keeps the probe result and feeds observe", "[health]")
{
    engine::health_table h(config());
    REQUIRE(h.start_probe("a", t0));
    probe(h, "a", probe_outcome::greeting_5xx, t0);
    const auto* e = h.find("a");
    REQUIRE(e);
    CHECK(e->state == health_state::dead);
    CHECK(e->last.outcome == probe_outcome::greeting_5xx);
    CHECK(e->probed_at == t0);
    CHECK_FALSE(e->probing);
    REQUIRE(e->recent.size() == 1);
    CHECK(e->recent[0].what.source == health_source::probe);
    CHECK(e->recent[0].what.outcome == "greeting-5xx");
    CHECK(e->next_probe == t0 + 60s);
}

TEST_CASE("health: a delivery sent proves health and revives a dead host", "[health]")
{
    engine::health_table h(config());
    h.observe("a", delivery(true, "sent"), t0);
    CHECK(h.state("a") == health_state::healthy);
    CHECK(h.find("a")->next_probe == t0 + 600s);  // no probe needed for a while
    CHECK(h.find("a")->probed_at == engine::health_table::time_point{});  // still never probed

    probe(h, "b", probe_outcome::banner_timeout, t0);
    REQUIRE(h.state("b") == health_state::dead);
    h.observe("b", delivery(true, "sent"), t0 + 1s);
    CHECK(h.state("b") == health_state::healthy);
    CHECK(h.find("b")->failures == 0);
}

TEST_CASE("health: a delivery failure at connect or greeting is dead at once", "[health]")
{
    engine::health_table h(config(3));
    for (const char* stage : {"connect", "greeting"}) {
        const std::string addr = std::string("h-") + stage;
        h.observe(addr, delivery(true, "sent"), t0);
        h.observe(addr, delivery(false, "connect-timeout", stage), t0 + 1s);
        CHECK(h.state(addr) == health_state::dead);
        CHECK(h.find(addr)->next_probe == t0 + 1s + 60s);
        CHECK_FALSE(h.find(addr)->delivery_dead);
        // The probe tests exactly what failed: a good one revives the host.
        REQUIRE(h.start_probe(addr, t0 + 61s));
        probe(h, addr, probe_outcome::ok, t0 + 61s);
        CHECK(h.state(addr) == health_state::healthy);
    }
}

TEST_CASE("health: failures after the greeting count up to feedback.failures", "[health]")
{
    engine::health_table h(config(3));
    probe(h, "a", probe_outcome::ok, t0);
    h.observe("a", delivery(false, "lost", "ehlo"), t0 + 1s);
    h.observe("a", delivery(false, "timeout", "data"), t0 + 2s);
    CHECK(h.state("a") == health_state::healthy);
    CHECK(h.find("a")->delivery_failures == 2);
    h.observe("a", delivery(false, "tls-failure", "tls"), t0 + 3s);
    CHECK(h.state("a") == health_state::dead);
    CHECK(h.find("a")->delivery_dead);
    CHECK(h.find("a")->next_probe == t0 + 3s + 60s);

    SECTION("a success in between starts the count again")
    {
        engine::health_table g(config(2));
        g.observe("b", delivery(false, "lost", "ehlo"), t0);
        g.observe("b", delivery(true, "sent"), t0 + 1s);
        g.observe("b", delivery(false, "lost", "ehlo"), t0 + 2s);
        CHECK(g.state("b") == health_state::healthy);
        CHECK(g.find("b")->delivery_failures == 1);
    }
    SECTION("more failures of messages in flight do not stretch the backoff")
    {
        h.observe("a", delivery(false, "lost", "ehlo"), t0 + 4s);
        CHECK(h.find("a")->next_probe == t0 + 3s + 60s);
        CHECK(h.find("a")->failures == 1);
    }
}

TEST_CASE("health: the default makes one failed delivery enough", "[health]")
{
    CHECK(engine::health_config{}.delivery_failures == 1);
    engine::health_table h(engine::health_config{});
    h.observe("a", delivery(false, "lost", "rcpt"), t0);
    CHECK(h.state("a") == health_state::dead);
}

TEST_CASE("health: a probe alone never revives a host deliveries fail on", "[health]")
{
    engine::health_table h(config());
    probe(h, "a", probe_outcome::ok, t0);
    h.observe("a", delivery(false, "lost", "ehlo"), t0 + 1s);
    REQUIRE(h.state("a") == health_state::dead);

    // A probe that was already running when the delivery failed greets fine:
    // the host still is dead.
    probe(h, "a", probe_outcome::ok, t0 + 2s);
    CHECK(h.state("a") == health_state::dead);
    CHECK(h.find("a")->recent.back().what.source == health_source::probe);  // seen, shown, not believed

    SECTION("after the backoff a good probe lets it try one delivery")
    {
        REQUIRE(h.start_probe("a", t0 + 61s));
        probe(h, "a", probe_outcome::ok, t0 + 61s);
        CHECK(h.state("a") == health_state::healthy);
        CHECK(h.find("a")->probation);

        SECTION("which fails: dead again, longer backoff")
        {
            h.observe("a", delivery(false, "timeout", "mail"), t0 + 70s);
            CHECK(h.state("a") == health_state::dead);
            CHECK(h.find("a")->delivery_dead);
            CHECK(h.find("a")->next_probe == t0 + 70s + 120s);
            probe(h, "a", probe_outcome::ok, t0 + 71s);
            CHECK(h.state("a") == health_state::dead);
        }
        SECTION("which is sent: healthy for good")
        {
            h.observe("a", delivery(true, "sent"), t0 + 70s);
            CHECK(h.state("a") == health_state::healthy);
            CHECK_FALSE(h.find("a")->probation);
            CHECK(h.find("a")->failures == 0);
        }
    }
    SECTION("a delivery that gets through revives it at any time")
    {
        h.observe("a", delivery(true, "sent"), t0 + 5s);
        CHECK(h.state("a") == health_state::healthy);
        CHECK_FALSE(h.find("a")->delivery_dead);
        CHECK(h.find("a")->delivery_failures == 0);
    }
}

TEST_CASE("health: entries keep the last few observations for route", "[health]")
{
    engine::health_table h(config(5));
    probe(h, "a", probe_outcome::ok, t0);
    for (int i = 1; i <= 4; ++i)
        h.observe("a", delivery(false, "lost", "ehlo"), t0 + std::chrono::seconds(i));
    h.observe("a", {health_source::delivery, true, "sent", "", "250 2.0.0 Ok\x1b[31m", ""}, t0 + 10s);
    const auto* e = h.find("a");
    REQUIRE(e->recent.size() == engine::health_table::recent_kept);
    CHECK(e->recent.front().at == t0 + 2s);  // the probe and the first failure fell out
    std::string text = engine::format_recent(*e, t0 + 70s, "    ");
    CHECK(text.starts_with("    delivery sent 60s ago: 250 2.0.0 Ok"));
    CHECK(text.find('\x1b') == std::string::npos);  // peer text is sanitized
    CHECK(text.find("    delivery lost@ehlo 66s ago: detail\n") != std::string::npos);
    CHECK(std::count(text.begin(), text.end(), '\n') == 4);
}

TEST_CASE("health: deliveries to unknown addresses respect the table's bound", "[health]")
{
    auto hc = config();
    hc.max_entries = 2;
    engine::health_table h(hc);
    REQUIRE(h.start_probe("a", t0));
    REQUIRE(h.start_probe("b", t0));
    h.observe("c", delivery(false, "lost", "ehlo"), t0);
    CHECK(h.find("c") == nullptr);
    CHECK(h.size() == 2);
}

namespace {

observation from(std::string node, observation o)
{
    o.node = std::move(node);
    return o;
}

}  // namespace

TEST_CASE("health: another node's observation counts like a local one of its source", "[health][fleet]")
{
    engine::health_table h(config());
    // mta-1 found a silent MX 5 s ago: dead here too, and not probed again
    // before the backoff from when mta-1 saw it ends.
    auto silent = from("mta-1", engine::to_observation({probe_outcome::banner_timeout, "", 1ms}));
    h.observe("a", silent, t0 - 5s);
    CHECK(h.state("a") == health_state::dead);
    CHECK(h.find("a")->next_probe == t0 + 55s);
    CHECK_FALSE(h.start_probe("a", t0));
    CHECK(h.start_probe("a", t0 + 55s));

    // A delivery failure after the greeting from another node follows the
    // delivery rules (feedback.failures), not the probe's.
    engine::health_table g(config(2));
    g.observe("b", from("mta-2", delivery(false, "lost", "ehlo")), t0);
    CHECK(g.state("b") == health_state::unknown);
    g.observe("b", from("mta-3", delivery(false, "lost", "ehlo")), t0 + 1s);
    CHECK(g.state("b") == health_state::dead);
    CHECK(g.find("b")->delivery_dead);
}

TEST_CASE("health: another node's older news does not undo newer", "[health][fleet]")
{
    engine::health_table h(config());
    probe(h, "a", probe_outcome::ok, t0 + 10s);
    // Made before the local probe, fetched after it: ignored, not kept.
    h.observe("a", from("mta-1", engine::to_observation({probe_outcome::refused, "", 1ms})), t0 + 5s);
    CHECK(h.state("a") == health_state::healthy);
    CHECK(h.find("a")->recent.size() == 1);
    // Newer than anything known: applied.
    h.observe("a", from("mta-1", engine::to_observation({probe_outcome::refused, "", 1ms})), t0 + 20s);
    CHECK(h.state("a") == health_state::dead);
    CHECK(h.find("a")->observed_at == t0 + 20s);
    // This node's own observations are news when they happen, whatever came in.
    h.observe("a", delivery(true, "sent"), t0 + 21s);
    CHECK(h.state("a") == health_state::healthy);
}

TEST_CASE("health: only this node's own observations go out to the fleet", "[health][fleet]")
{
    engine::health_table h(config());
    std::vector<std::string> out;
    h.on_local_observation([&](const std::string& addr, const observation& o) { out.push_back(addr + " " + o.outcome); });
    probe(h, "a", probe_outcome::banner_timeout, t0);
    h.observe("b", delivery(false, "lost", "ehlo"), t0);
    h.observe("c", from("mta-1", delivery(true, "sent")), t0);  // never republished: no echo
    CHECK(out == std::vector<std::string>{"a banner-timeout", "b lost"});
}

TEST_CASE("health: route shows the node another node's observation came from", "[health][fleet]")
{
    engine::health_table h(config());
    h.observe("a", from("mta-1", engine::to_observation({probe_outcome::banner_timeout, "", 1ms})), t0);
    h.observe("a", delivery(false, "lost", "ehlo"), t0 + 10s);
    std::string text = engine::format_recent(*h.find("a"), t0 + 180s, "  ");
    CHECK(text == "  delivery lost@ehlo 170s ago: detail\n  probe banner-timeout@greeting on mta-1 180s ago\n");
}
