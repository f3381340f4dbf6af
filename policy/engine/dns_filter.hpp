// engine/dns_filter.hpp: the decision behind routing.steer = dns-filter.
// Postfix keeps routing by the recipient domain and asks, record by record
// through its smtp_dns_reply_filter, whether to use each MX and address
// record it looked up; mxwarden drops (IGNORE) those of hosts it knows to be
// dead. Pure: the caller gathers a snapshot of what it knows; no DNS, no
// probing here. The rules keep Postfix no worse off than without mxwarden:
// TLSA is never dropped, nor the last usable record of a lookup, nor a
// record of anything not known to be dead.
#pragma once
#include "engine/health.hpp"
#include "proto/dns_filter_key.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace mxw::engine {

struct dns_filter_address {
    std::string address;  ///< canonical text (proto::canonical_address)
    health_state state = health_state::unknown;
};

struct dns_filter_host {
    std::string name;  ///< lower case, without the final dot
    std::vector<dns_filter_address> addresses;  ///< every known address, both families
};

/// What the daemon knows about the owner of the record asked about.
struct dns_filter_snapshot {
    /// An MX record: the MX hosts of the owner domain, the record's own
    /// exchange among them. An A or AAAA record: the owner host (other hosts
    /// are ignored). Empty when the owner is unknown.
    std::vector<dns_filter_host> hosts;
};

enum class dns_filter_action { keep, ignore };

/// Why, for the decision log line.
enum class dns_filter_reason {
    not_filtered,      ///< TLSA or another type mxwarden never drops
    null_mx,           ///< "MX 0 .": the domain's own statement, never dropped
    unknown_owner,     ///< the host (or its address) is not in the snapshot
    not_dead,          ///< an address is healthy or not probed yet
    last_usable,       ///< dead, but no other usable record would be left
    dead,              ///< dead, and a usable alternative remains: ignored
};
std::string_view to_string(dns_filter_reason r) noexcept;

struct dns_filter_decision {
    dns_filter_action action = dns_filter_action::keep;
    dns_filter_reason reason = dns_filter_reason::not_filtered;
    bool operator==(const dns_filter_decision&) const = default;
};

/// Keep or drop one record Postfix looked up. An MX record is dropped only
/// when its exchange has known addresses, all dead, and another MX host of
/// the domain has an address that is not dead. An A (AAAA) record is
/// dropped only when its address is dead and the same host has another
/// IPv4 (IPv6) address that is not dead. Everything else is kept.
dns_filter_decision decide_dns_filter(const proto::dns_filter_record& record, const dns_filter_snapshot& snapshot);

}  // namespace mxw::engine
