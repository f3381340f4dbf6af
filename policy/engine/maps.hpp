// engine/maps.hpp: the socketmap maps the router answers, one table entry
// each (maps.cpp): a map is a name and a handler that turns a key into an
// answer, usually by asking the router for a route and spelling it in one
// MTA's syntax. The formatters below are pure; they are the only places
// that know Postfix's and Sendmail's next-hop syntax.
#pragma once
#include "engine/route_choice.hpp"
#include "proto/dns_filter_key.hpp"

#include <string>
#include <string_view>

namespace mxw::engine {

class router;
class destination_table;

struct map_answer {
    enum class status { ok, notfound, temp } st = status::notfound;
    std::string data;  ///< the value (ok) or the reason (temp)
};

/// Answers one key of one map; `key` must outlive the awaitable.
using map_handler = asio::awaitable<map_answer> (*)(router&, const std::string& key);

struct map_entry {
    std::string_view name;
    map_handler handler;
};

/// The map called `name`, or null when there is none of that name.
[[nodiscard]] const map_entry* find_map(std::string_view name) noexcept;

/// Postfix transport_maps syntax: "mxw:[192.0.2.1]:25, [192.0.2.2]:25",
/// "error:5.1.10 text", "mxq:reason". Only these shapes are produced, and
/// every hop is a bracketed address or name with a port, so Postfix's smtp
/// never meets a malformed next hop.
map_answer format_postfix(const route_choice& c, const routing_config& cfg);

/// Postfix relayhost syntax, for sender_dependent_relayhost_maps:
/// "[192.0.2.1]:587, [192.0.2.2]:587"; anything but hops is NOTFOUND.
map_answer format_relayhost(const route_choice& c, const routing_config& cfg);

/// The hops of `c` as "[a]:port, [b]:port".
std::string hop_list(const route_choice& c, const routing_config& cfg);

/// Sendmail mailertable syntax: "esmtp:[192.0.2.1]:[IPv6:2001:db8::1]"
/// (colon-separated hosts are tried in order, the port comes from the
/// mailer), "error:5.1.10:550 text", "mxq:reason".
map_answer format_sendmail(const route_choice& c, const routing_config& cfg);

/// The `dnsfilter` map (smtp_dns_reply_filter) for one record, from what the
/// table knows now (see decide_dns_filter): "IGNORE" drops the record, and
/// NOTFOUND keeps it. An MX record's owner is looked up as a destination,
/// an address record's as an MX host name.
map_answer dnsfilter_answer(const destination_table& t, const proto::dns_filter_record& record);

/// The `tls` map (smtp_tls_policy_maps): the site's TLS level for a next
/// hop exactly as mxwarden emits it ("[address]:port", "[name]:port"),
/// with the names a certificate must match when the level checks names.
/// NOTFOUND for keys that are not our next hops (other maps decide).
map_answer tls_policy(const destination_table& t, std::string_view nexthop);

}  // namespace mxw::engine
