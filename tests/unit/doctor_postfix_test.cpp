// The doctor's Postfix lint follows routing.steer: with transport it wants
// the smtp clone and the tls map, and flags mxwarden's dnsfilter map as a
// mismatch; with dns-filter it wants the dnsfilter map in
// smtp_dns_reply_filter, and neither the clone nor the tls map.
#include "cli/doctor.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace base = mxw::base;
namespace doctor = mxw::cli::doctor;
using doctor::level;

namespace {

const std::string transport_map = "socketmap:inet:127.0.0.1:10041:transport";
const std::string tls_map = "socketmap:inet:127.0.0.1:10041:tls";
const std::string filter_map = "socketmap:inet:127.0.0.1:10041:dnsfilter";
const doctor::postfix_settings with_clone = {{"mxw/unix", "mxw unix - - n - - smtp"}};

base::config config_with(const base::value_map& values)
{
    std::vector<std::string> errors;
    auto cfg = base::build_config(values, "/srv/mxw", errors);
    INFO((errors.empty() ? "" : errors.front()));
    REQUIRE(cfg.has_value());
    return *cfg;
}

std::vector<doctor::finding> lint(const base::value_map& values, const doctor::postfix_settings& main_cf,
                                  const doctor::postfix_settings& master_cf = {})
{
    std::vector<doctor::finding> out;
    doctor::lint_postfix(config_with(values), main_cf, master_cf, out);
    return out;
}

// The one finding about `subject`; a test fails when there is none or more.
doctor::finding about(const std::vector<doctor::finding>& all, const std::string& subject)
{
    auto n = std::count_if(all.begin(), all.end(), [&](const doctor::finding& f) { return f.subject == subject; });
    INFO(subject);
    REQUIRE(n == 1);
    return *std::find_if(all.begin(), all.end(), [&](const doctor::finding& f) { return f.subject == subject; });
}

bool mentions(const std::vector<doctor::finding>& all, const std::string& subject)
{
    return std::any_of(all.begin(), all.end(), [&](const doctor::finding& f) { return f.subject == subject; });
}

}  // namespace

TEST_CASE("transport steer: the smtp clone and the tls map are expected", "[doctor]")
{
    auto missing = lint({}, {{"transport_maps", transport_map}});
    CHECK(about(missing, "transport mxw").lvl == level::fail);
    CHECK(about(missing, "smtp_tls_policy_maps").lvl == level::warn);
    CHECK_FALSE(mentions(missing, "smtp_dns_reply_filter"));

    auto complete = lint({}, {{"transport_maps", transport_map}, {"smtp_tls_policy_maps", tls_map}}, with_clone);
    CHECK(about(complete, "transport mxw").lvl == level::ok);
    CHECK(about(complete, "transport mxw").detail == "mxw unix - - n - - smtp");
    CHECK(about(complete, "smtp_tls_policy_maps").lvl == level::ok);
}

TEST_CASE("transport steer: mxwarden's dnsfilter map in smtp_dns_reply_filter is a mismatch", "[doctor]")
{
    auto all = lint({}, {{"transport_maps", transport_map},
                         {"smtp_tls_policy_maps", tls_map},
                         {"smtp_dns_reply_filter", "pcre:/etc/postfix/filter, " + filter_map}},
                    with_clone);
    auto f = about(all, "smtp_dns_reply_filter");
    CHECK(f.lvl == level::warn);
    CHECK(f.detail.find("routing.steer = transport") != std::string::npos);
    CHECK(f.fix.find("set routing.steer = dns-filter") != std::string::npos);
    CHECK(f.fix.find("take " + filter_map + " out of smtp_dns_reply_filter") != std::string::npos);

    // The admin's own filter is none of mxwarden's business.
    CHECK_FALSE(mentions(lint({}, {{"smtp_dns_reply_filter", "pcre:/etc/postfix/filter"}}), "smtp_dns_reply_filter"));
}

TEST_CASE("dns-filter steer: the dnsfilter map is required, with the line that adds it", "[doctor]")
{
    const base::value_map steer = {{"routing.steer", "dns-filter"}};
    auto unset = about(lint(steer, {{"transport_maps", transport_map}}), "smtp_dns_reply_filter");
    CHECK(unset.lvl == level::fail);
    CHECK(unset.detail == "not set");
    CHECK(unset.fix.find("set smtp_dns_reply_filter = " + filter_map + " ") != std::string::npos);

    // After the admin's own filter, as postfix-setup would put it.
    auto own = about(lint(steer, {{"smtp_dns_reply_filter", "pcre:/etc/postfix/filter"}}), "smtp_dns_reply_filter");
    CHECK(own.lvl == level::fail);
    CHECK(own.fix.find("smtp_dns_reply_filter = pcre:/etc/postfix/filter, " + filter_map) != std::string::npos);

    // Another endpoint than listen.socketmap is not mxwarden's map.
    auto elsewhere = lint({{"routing.steer", "dns-filter"}, {"listen.socketmap", "inet:127.0.0.1:20041"}},
                          {{"smtp_dns_reply_filter", filter_map}});
    CHECK(about(elsewhere, "smtp_dns_reply_filter").lvl == level::fail);

    auto set = about(lint(steer, {{"smtp_dns_reply_filter", filter_map}}), "smtp_dns_reply_filter");
    CHECK(set.lvl == level::ok);
    CHECK(set.fix.empty());
}

TEST_CASE("dns-filter steer: no smtp clone nor tls map is asked for; a leftover tls map is a warning", "[doctor]")
{
    const base::value_map steer = {{"routing.steer", "dns-filter"}};
    auto bare = lint(steer, {{"transport_maps", transport_map}, {"smtp_dns_reply_filter", filter_map}});
    CHECK_FALSE(mentions(bare, "transport mxw"));
    CHECK_FALSE(mentions(bare, "smtp_tls_policy_maps"));
    CHECK_FALSE(mentions(bare, "DANE"));
    CHECK(std::none_of(bare.begin(), bare.end(), [](const doctor::finding& f) { return f.lvl != level::ok; }));

    auto leftover = about(lint(steer, {{"transport_maps", transport_map},
                                       {"smtp_dns_reply_filter", filter_map},
                                       {"smtp_tls_policy_maps", tls_map + ", hash:/etc/postfix/tls_policy"}}),
                          "smtp_tls_policy_maps");
    CHECK(leftover.lvl == level::warn);
    CHECK(leftover.fix.find("not needed") != std::string::npos);
    CHECK(leftover.fix.find("take " + tls_map + " out of smtp_tls_policy_maps") != std::string::npos);
}

TEST_CASE("dns-filter steer with a smart host: the transport map still routes, so the transport lint applies",
          "[doctor]")
{
    const base::value_map smarthost = {
        {"routing.steer", "dns-filter"}, {"routing.mode", "smarthost"}, {"routing.smarthost", "[192.0.2.25]:587"}};
    auto all = lint(smarthost, {{"transport_maps", transport_map}, {"smtp_dns_reply_filter", filter_map}});
    CHECK(about(all, "transport mxw").lvl == level::fail);
    CHECK(about(all, "smtp_tls_policy_maps").lvl == level::warn);
    auto f = about(all, "smtp_dns_reply_filter");
    CHECK(f.lvl == level::warn);
    CHECK(f.detail.find("routing.mode = smarthost") != std::string::npos);
}
