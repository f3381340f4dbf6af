// Tests for cli/health_cli: how `mxwarden health` shows the daemon's
// report, as text for a person and as JSON for scripts.
#include "cli/health_cli.hpp"

#include <catch2/catch.hpp>

namespace proto = mxw::proto;

namespace {

proto::health_report sample()
{
    proto::health_report r;
    r.now = 1765000000;
    r.hosts.push_back({"192.0.2.1", {"mx1.example.org", "mx.example.net"}, "dead", "probe", "banner-timeout", 1764999905});
    r.hosts.push_back({"192.0.2.2", {}, "healthy", "delivery", "sent", 1764992800});
    r.failing.push_back({"evil\n.example", "servfail", "MX evil servfail", 1764999000});
    r.activity.push_back({1764992700, 7, 1, 0});   // more than an hour before now
    r.activity.push_back({1764999600, 5, 2, 1});
    return r;
}

}  // namespace

TEST_CASE("health cli: text shows hosts, failing destinations and the activity summary", "[health]")
{
    auto text = mxw::cli::format_health_text(sample());
    CHECK(text == "hosts: 2 (1 dead, 1 healthy, 0 unknown)\n"
                  "  ADDRESS    STATE    SOURCE    LAST            AGE  NAMES\n"
                  "  192.0.2.1  dead     probe     banner-timeout  95s  mx1.example.org,mx.example.net\n"
                  "  192.0.2.2  healthy  delivery  sent            2h   -\n"
                  "failing destinations: 1\n"
                  "  DOMAIN            STATUS    FOR  DETAIL\n"
                  "  evil\\x0a.example  servfail  16m  MX evil servfail\n"
                  "activity: 2 buckets of 300s (10m, since mxwardend started or 24h)\n"
                  "  decisions:     5 in the last hour, 12 in all\n"
                  "  dns failures:  2 in the last hour, 3 in all\n"
                  "  dead hosts:    1 now, at most 1\n");
}

TEST_CASE("health cli: JSON keeps the report's fields", "[health]")
{
    auto json = mxw::cli::format_health_json(sample());
    CHECK(json.starts_with(R"({"now":1765000000,"bucket_seconds":300,"hosts":[{"address":"192.0.2.1",)"
                           R"("names":["mx1.example.org","mx.example.net"],"state":"dead","source":"probe",)"
                           R"("last_outcome":"banner-timeout","last_at":1764999905},)"));
    CHECK(json.find(R"({"domain":"evil\u000a.example","status":"servfail","detail":"MX evil servfail","since":1764999000})") !=
          std::string::npos);
    CHECK(json.ends_with(R"({"start":1764999600,"decisions":5,"dns_failures":2,"dead_hosts":1}]})"
                         "\n"));
}
