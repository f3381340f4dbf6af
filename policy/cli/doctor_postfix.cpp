// cli/doctor_postfix.cpp: the doctor's Postfix lint, apart from postconf so
// that the tests can feed it settings.
#include "cli/doctor.hpp"

#include "cli/postfix_names.hpp"
#include "proto/dns_rdata.hpp"
#include "proto/nexthop.hpp"

#include <algorithm>

namespace mxw::cli::doctor {
namespace {

// postconf -n leaves out what is at its default: "" for all we look at.
std::string value(const postfix_settings& settings, const std::string& name)
{
    auto it = settings.find(name);
    return it == settings.end() ? std::string() : it->second;
}

// routing.steer = dns-filter: Postfix routes by itself and only the
// dnsfilter map keeps it away from dead hosts; the tls map and the smtp
// clone, made for bracketed next hops, are not in play.
void lint_dns_filter(const base::config& cfg, const postfix_settings& main_cf, std::vector<finding>& out)
{
    auto get = [&](const std::string& name) { return value(main_cf, name); };
    std::string endpoint = postfix_endpoint(cfg.listen_socketmap);
    std::string filters = get("smtp_dns_reply_filter");
    auto missing = dns_reply_filter_line(endpoint, filters);
    out.push_back({"postfix", "smtp_dns_reply_filter", missing ? level::fail : level::ok,
                   filters.empty() ? "not set" : filters,
                   missing ? "with routing.steer = dns-filter only mxwarden's dnsfilter map keeps Postfix away from "
                             "dead hosts: set " + *missing + " (or run mxwarden postfix-setup)"
                           : ""});
    std::string tls = get("smtp_tls_policy_maps");
    std::string tls_map = socketmap_table(endpoint, "tls");
    if (tls.find(tls_map) != std::string::npos)
        out.push_back({"postfix", "smtp_tls_policy_maps", level::warn, tls,
                       "harmless, but not needed: " + std::string(tls_map_unneeded) + "; take " + tls_map +
                           " out of smtp_tls_policy_maps"});
}

// routing.steer = transport: Postfix delivers to the next hops the
// transport map names, through the smtp clone, with the tls map.
void lint_transport(const base::config& cfg, const postfix_settings& main_cf, const postfix_settings& master_cf,
                    std::vector<finding>& out)
{
    auto get = [&](const std::string& name) { return value(main_cf, name); };
    std::string filters = get("smtp_dns_reply_filter");
    std::string filter_map = socketmap_table(postfix_endpoint(cfg.listen_socketmap), "dnsfilter");
    if (filters.find(filter_map) != std::string::npos) {
        bool smarthost = cfg.routing.routing_mode == engine::routing_config::mode::smarthost;
        out.push_back({"postfix", "smtp_dns_reply_filter", level::warn,
                       filters + " (mxwarden's dnsfilter map, but " +
                           (smarthost ? "routing.mode = smarthost" : "routing.steer = transport") +
                           ": mxwarden names the next hops through transport_maps)",
                       smarthost ? "take " + filter_map + " out of smtp_dns_reply_filter"
                                 : "set routing.steer = dns-filter to let Postfix route by itself, or take " +
                                       filter_map + " out of smtp_dns_reply_filter"});
    }
    std::string transport_maps = get("transport_maps");
    bool ours = transport_maps.find("socketmap:") != std::string::npos &&
                transport_maps.find(":transport") != std::string::npos;
    if (!ours)
        return;
    auto clone = master_cf.find(cfg.routing.transport + "/unix");
    bool has_clone = clone != master_cf.end();
    out.push_back({"postfix", "transport " + cfg.routing.transport, has_clone ? level::ok : level::fail,
                   has_clone ? clone->second
                             : "transport_maps answers name " + cfg.routing.transport +
                                   ", but master.cf has no such service",
                   has_clone ? "" : "add the " + cfg.routing.transport + " smtp clone to master.cf (README, Routing)"});
    std::string tls = get("smtp_tls_policy_maps");
    bool has_tls = tls.find(":tls") != std::string::npos;
    out.push_back({"postfix", "smtp_tls_policy_maps", has_tls ? level::ok : level::warn, tls.empty() ? "not set" : tls,
                   has_tls ? "" : "bracketed IP next hops switch off certificate-name checks: put "
                                  "socketmap:...:tls first in smtp_tls_policy_maps"});
    std::string tls_level = get("smtp_tls_security_level");
    bool dane = tls_level == "dane" || tls_level == "dane-only" || get("smtp_dns_support_level") == "dnssec";
    if (dane && cfg.routing.nexthop_form == engine::routing_config::form::ip)
        out.push_back({"postfix", "DANE", level::warn, "DANE/DNSSEC is on, but bracketed IP next hops bypass it",
                       "set routing.nexthop-form = hostname"});
}

}  // namespace

std::string_view to_string(level l)
{
    switch (l) {
    case level::ok: return "ok";
    case level::warn: return "warn";
    case level::fail: return "FAIL";
    case level::info: return "info";
    }
    return "?";
}

void lint_postfix(const base::config& cfg, const postfix_settings& main_cf, const postfix_settings& master_cf,
                  std::vector<finding>& out)
{
    auto get = [&](const std::string& name) { return value(main_cf, name); };

    if (auto relay = get("relayhost"); !relay.empty()) {
        bool bracketed = relay.front() == '[';
        auto host = proto::parse_smarthost(relay);
        bool literal = host && proto::canonical_address(host->host);
        out.push_back({"postfix", "relayhost", bracketed || literal ? level::ok : level::warn, relay,
                       bracketed || literal ? ""
                                            : "relayhost " + relay + " is looked up (MX, then A) at every delivery: "
                                              "when that DNS fails mail stops (seed 000). Use routing.mode = "
                                              "smarthost with routing.smarthost = " + relay + ", or at least [" +
                                                  (host ? host->host : relay) + "]"});
    }
    if (steers_by_dns_filter(cfg))
        lint_dns_filter(cfg, main_cf, out);
    else
        lint_transport(cfg, main_cf, master_cf, out);
    for (const char* key : {"smtpd_client_restrictions", "smtpd_helo_restrictions", "smtpd_sender_restrictions",
                            "smtpd_recipient_restrictions", "smtpd_relay_restrictions"}) {
        std::string v = get(key);
        std::size_t at = 0;
        while ((at = v.find("check_policy_service", at)) != std::string::npos) {
            at += 20;
            std::string rest = v.substr(std::min(v.find_first_not_of(" \t", at), v.size()));
            bool braced = !rest.empty() && rest.front() == '{';
            std::string spec = braced ? rest.substr(0, rest.find('}') + 1) : rest.substr(0, rest.find_first_of(" ,"));
            bool has_default = spec.find("default_action") != std::string::npos;
            bool has_timeout = spec.find("timeout") != std::string::npos;
            out.push_back({"postfix", std::string(key) + " policy service",
                           has_default && has_timeout ? level::ok : level::warn, spec,
                           has_default && has_timeout
                               ? ""
                               : "write { inet:127.0.0.1:10040, timeout=15s, default_action=DUNNO }: without a "
                                 "default_action, smtpd answers 451 4.3.5 to every client while mxwardend is down"});
        }
    }
    if (!get("smtpd_milters").empty() && get("milter_default_action").empty())
        out.push_back({"postfix", "milter_default_action", level::warn, "not set",
                       "set it (accept or tempfail): its default changed within Postfix 3.7 (tempfail up to "
                       "3.7.19, shutdown from 3.7.20)"});
}

}  // namespace mxw::cli::doctor
