// Tests for engine/activity: the 24-hour ring of five-minute buckets that
// `mxwarden health` shows, fed with running totals and the time.
#include "engine/activity.hpp"

#include <catch2/catch.hpp>

using mxw::engine::activity_ring;
using bucket = activity_ring::bucket;

namespace {
constexpr std::int64_t t0 = 1765000200;  // a bucket start (multiple of 300)
}

TEST_CASE("activity: empty until the first sample", "[activity]")
{
    activity_ring a;
    CHECK(a.last_day(t0).empty());
}

TEST_CASE("activity: growth of the totals goes to the bucket of the sample", "[activity]")
{
    activity_ring a;
    a.sample(t0 + 10, 5, 1, 0);  // since start: counters began at zero
    a.sample(t0 + 290, 8, 1, 2);
    a.sample(t0 + 300, 20, 4, 1);
    auto d = a.last_day(t0 + 400);
    REQUIRE(d.size() == 2);
    CHECK(d[0] == bucket{t0, 8, 1, 2});
    CHECK(d[1] == bucket{t0 + 300, 12, 3, 1});
}

TEST_CASE("activity: quiet buckets are there with zeros, up to now", "[activity]")
{
    activity_ring a;
    a.sample(t0, 3, 0, 1);
    a.sample(t0 + 900, 4, 0, 0);
    auto d = a.last_day(t0 + 1250);
    REQUIRE(d.size() == 5);
    CHECK(d[0] == bucket{t0, 3, 0, 1});
    CHECK(d[1] == bucket{t0 + 300, 0, 0, 0});
    CHECK(d[2] == bucket{t0 + 600, 0, 0, 0});
    CHECK(d[3] == bucket{t0 + 900, 1, 0, 0});
    CHECK(d[4] == bucket{t0 + 1200, 0, 0, 0});
}

TEST_CASE("activity: at most 288 buckets, the oldest go", "[activity]")
{
    activity_ring a;
    for (std::int64_t i = 0; i < 300; ++i)
        a.sample(t0 + i * 300, static_cast<std::uint64_t>(i + 1), 0, static_cast<std::uint64_t>(i));
    auto d = a.last_day(t0 + 299 * 300);
    REQUIRE(d.size() == activity_ring::bucket_count);
    CHECK(d.front() == bucket{t0 + 12 * 300, 1, 0, 12});
    CHECK(d.back() == bucket{t0 + 299 * 300, 1, 0, 299});
    // A day later with no sample: every bucket is old and shows zeros.
    auto later = a.last_day(t0 + 299 * 300 + 86400);
    REQUIRE(later.size() == activity_ring::bucket_count);
    for (const auto& b : later)
        CHECK(b.decisions == 0);
}

TEST_CASE("activity: a clock going back stays in the newest bucket; a shrinking total is a new base", "[activity]")
{
    activity_ring a;
    a.sample(t0 + 300, 10, 2, 0);
    a.sample(t0 - 3000, 12, 2, 0);  // clock set back
    a.sample(t0 + 310, 5, 1, 0);    // totals restarted lower: no growth
    a.sample(t0 + 320, 7, 1, 0);
    auto d = a.last_day(t0 + 320);
    REQUIRE(d.size() == 1);
    CHECK(d[0] == bucket{t0 + 300, 14, 2, 0});
}
