// engine/route_choice.hpp: where mail for one destination goes now, decided
// from a snapshot of what is known about it: its DNS route, how long DNS
// and its hosts have been failing, and each address's health. Pure: no
// timers, no probes, no I/O; the destination table (destinations.hpp)
// gathers the snapshot and acts on the decision, the maps (maps.hpp) spell
// it in one MTA's syntax.
#pragma once
#include "dns/resolver.hpp"
#include "engine/health.hpp"
#include "engine/mx_select.hpp"
#include "proto/cidr.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace mxw::engine {

/// routing.steer: how mxwarden's choice of hosts reaches Postfix.
enum class steer_mode {
    transport,   ///< transport_maps answers name the next hops (the default)
    dns_filter,  ///< Postfix routes itself; the dnsfilter map drops dead hosts' records
};

struct routing_config {
    enum class mode { mx, smarthost, off } routing_mode = mode::mx;
    /// dns_filter: the transport map answers only what Postfix cannot do
    /// itself (the quarantine, the smart host); next hops are Postfix's.
    steer_mode steer = steer_mode::transport;
    std::string smarthost;  ///< host name or address (smarthost mode)
    std::uint16_t smarthost_port = 25;
    enum class form { ip, hostname } nexthop_form = form::ip;
    enum class unroutable { bounce, quarantine, postfix };
    std::string transport = "mxw";
    std::string sendmail_mailer = "esmtp";
    std::string quarantine_transport = "mxq";
    std::size_t max_addresses = 5;  ///< Postfix's smtp_mx_address_limit
    mx_limits limits;
    std::vector<proto::cidr> deny;                 ///< never emitted or probed
    std::vector<std::string> exclude;              ///< "example.com" or ".example.com" (subdomains)
    std::chrono::seconds quarantine_after{7200};   ///< failing this long: mxq:<reason>
    std::chrono::milliseconds answer_budget{100};  ///< longest a lookup waits for DNS
    std::chrono::milliseconds resolve_deadline{10000};
    std::chrono::seconds min_route_ttl{60};
    std::chrono::seconds max_route_ttl{3600};
    std::chrono::seconds tempfail_retry{30};
    unroutable on_null_mx = unroutable::bounce;
    unroutable on_nxdomain = unroutable::bounce;
    std::size_t max_destinations = 100000;
    std::size_t max_probes = 32;                   ///< concurrent probes, all destinations
    std::size_t max_probes_per_destination = 2;
    std::uint16_t port = 25;
    /// The TLS security level the site uses for remote mail, answered for
    /// mxwarden's own next hops in the `tls` map (smtp_tls_policy_maps).
    std::string tls_level = "may";
};

/// The port mxwarden's next hops (and probes) use: the smart host's in
/// smart host mode, else the SMTP port.
inline std::uint16_t hop_port(const routing_config& cfg) noexcept
{
    return cfg.routing_mode == routing_config::mode::smarthost ? cfg.smarthost_port : cfg.port;
}

/// True for the TLS levels at which Postfix compares the server
/// certificate with a name (and so a `tls` map answer must name it).
inline bool tls_checks_names(std::string_view level) noexcept
{
    return level == "verify" || level == "secure" || level == "dane" || level == "dane-only";
}

[[nodiscard]] bool denied(const routing_config& cfg, const std::string& address);

/// What the router decided for one destination, before it is spelled in
/// one MTA's syntax.
struct route_choice {
    enum class kind { none, hops, bounce, quarantine } k = kind::none;
    /// In order: addresses, or MX host names (hostname form, and hosts
    /// whose address another destination shares, see choose_route).
    std::vector<std::string> hops;
    std::string status;  ///< bounce: enhanced status code, e.g. "5.1.10"
    std::string text;    ///< bounce: reason text; quarantine: reason token
};

/// Everything choose_route looks at for one destination, at one instant.
struct route_snapshot {
    using time_point = dns::clock::time_point;
    const route_dns& dns;
    bool resolved = false;             ///< dns holds a usable answer (possibly last-known-good)
    time_point dns_failing_since{};    ///< zero while DNS answers
    time_point dead_since{};           ///< zero unless every address was dead at the last choice
    time_point now{};
    std::function<health_state(const std::string& address)> health;
    /// True when `address` is also an MX address of another destination.
    std::function<bool(const std::string& address)> shared;
};

struct route_decision {
    route_choice choice;
    /// The snapshot's dead_since, started at `now` when every address is
    /// dead, zero when one is not: the caller keeps it for the next choice.
    route_snapshot::time_point dead_since{};
};

/// Healthy hosts first, then unprobed ones, each in preference order; known
/// dead hosts only when nothing else is left; quarantine after
/// routing.quarantine-after of failure; null MX and NXDOMAIN as configured.
/// `domain` only appears in bounce texts.
route_decision choose_route(const std::string& domain, const route_snapshot& s, const routing_config& cfg);

}  // namespace mxw::engine
