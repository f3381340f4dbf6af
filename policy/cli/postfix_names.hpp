// cli/postfix_names.hpp: what mxwarden's hookup in Postfix looks like,
// shared by postfix-setup, which writes it, and doctor, which checks it, so
// that the two cannot drift apart.
#pragma once
#include "base/config.hpp"
#include "proto/endpoint.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace mxw::cli {

/// Postfix's spelling of an endpoint: "inet:HOST:PORT" (an IPv6 HOST in
/// brackets) or "unix:PATH".
std::string postfix_endpoint(const proto::endpoint& e);

/// One of mxwarden's socketmap tables ("transport", "tls", "dnsfilter") as
/// Postfix names it; `endpoint` in Postfix's spelling.
std::string socketmap_table(std::string_view endpoint, std::string_view map);

/// Whether Postfix routes by itself and asks the dnsfilter map: routing.steer
/// = dns-filter, except with routing.mode = smarthost, where the transport
/// map names the smart host whatever the steer says (config_warnings tells
/// the admin) and the tls map is still needed.
bool steers_by_dns_filter(const base::config& cfg);

/// The main.cf line that adds the dnsfilter table at `socketmap_endpoint`
/// to smtp_dns_reply_filter, after the admin's own filters (`current`):
/// Postfix asks the filter maps in order and the first answer wins. Nullopt
/// when the table is there already.
std::optional<std::string> dns_reply_filter_line(std::string_view socketmap_endpoint, const std::string& current);

/// Why the tls map is not needed when steers_by_dns_filter.
inline constexpr std::string_view tls_map_unneeded =
    "it answers only mxwarden's bracketed next hops, and with routing.steer = dns-filter Postfix's next hops are "
    "domains";

}  // namespace mxw::cli
