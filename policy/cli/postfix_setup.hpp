// cli/postfix_setup.hpp: `mxwarden postfix-setup`, everything Postfix needs
// to use mxwarden, from mxwarden's own configuration: the policy service
// (with a per-service timeout and default action), the transport and TLS
// policy maps and the `mxw` smtp clone (or, with routing.steer = dns-filter,
// the DNS reply filter), and the `mxq` quarantine pipe. Prints
// the postconf commands; --check says what is missing or conflicting;
// --apply backs up main.cf and master.cf and runs them. Idempotent: what
// is already there is left alone.
#pragma once
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mxw::cli {

/// One change, as postconf takes it: `-e` "name = value" for main.cf, `-M`
/// "service/type = entry" or `-P` "service/type/name = value" for master.cf.
struct postconf_change {
    std::string flag;   ///< "-e", "-M" or "-P"
    std::string value;
    std::string why;
};

/// What postfix-setup wants, given the current settings. Pure: `main_cf`
/// holds `postconf -n` values (name -> value), `master_cf` the services
/// present ("mxw/unix" -> the whole entry line), `warnings` collects the
/// conflicts it sees (e.g. reject_unknown_sender_domain next to the policy
/// service).
struct setup_inputs {
    std::string policy_endpoint;     ///< Postfix syntax, "inet:127.0.0.1:10040" or "unix:/path"
    std::string socketmap_endpoint;  ///< same
    std::string transport = "mxw";
    std::string quarantine_transport = "mxq";
    /// routing.steer = dns-filter (with MX routing): Postfix routes by the
    /// recipient domain and asks the dnsfilter map through
    /// smtp_dns_reply_filter; the tls map and the smtp clone, made for
    /// mxwarden's bracketed next hops, are then not set up. The transport
    /// map stays: mxwarden still sends long-unroutable mail to quarantine.
    bool dns_filter = false;
    std::string mxwarden_path;       ///< the CLI binary the mxq pipe runs
    std::string pipe_user = "mxwarden";
    std::vector<std::string> extra_ingest_args;  ///< e.g. -c FILE, passed to every ingest
};

std::vector<postconf_change> plan_postfix_setup(const setup_inputs& in,
                                                const std::vector<std::pair<std::string, std::string>>& main_cf,
                                                const std::vector<std::pair<std::string, std::string>>& master_cf,
                                                std::vector<std::string>& warnings);

/// `global`: the options before "postfix-setup"; `arguments`: those after it.
/// Exit status: 0 done (or nothing missing with --check), 1 when --check
/// finds something missing, sysexits codes otherwise.
int run_postfix_setup(std::span<const std::string_view> global, std::span<const std::string_view> arguments);

}  // namespace mxw::cli
