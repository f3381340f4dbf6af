// proto/health_report.hpp: the answer to the control verb `health`: host
// health, failing destinations and the last 24 hours of activity, as
// mxwardend sees them now. Read by `mxwarden health` and by mxwarden-web,
// separate processes on the control socket, so it is a codec of its own.
// mxwarden parses no JSON; this is a line format:
//
//   report  = head *( host / failing / bucket ) end       ; no other bytes
//   head    = "health" SP "1" SP now SP bucket-seconds LF  ; "1": the version
//   host    = "host" SP address SP state SP source SP last-outcome SP last-at
//             *( SP name ) LF                              ; at most 8 names
//   failing = "failing" SP domain SP status SP since SP detail LF
//   bucket  = "bucket" SP start SP decisions SP dns-failures SP dead-hosts LF
//   end     = "end" SP hosts SP failing SP buckets LF      ; the counts sent
//   state   = "unknown" / "healthy" / "dead"
//   source  = "probe" / "delivery"
//   now, last-at, since, start = uint                      ; Unix seconds, 0 unknown
//   bucket-seconds = uint                                  ; 1 to 86400
//   decisions, dns-failures, dead-hosts, hosts, failing, buckets = uint
//   uint    = "0" / %x31-39 *DIGIT                         ; no leading zeros, fits its type
//   address, name, last-outcome, domain, status, detail = field
//   field   = "-" / 1*( safe / "%" 2HEXDIG )               ; "-" alone: the empty string
//   safe    = %x21-24 / %x26-7E                            ; visible ASCII but "%"
//
// Every other byte of a field (space, controls, "%", bytes over 0x7e) is
// "%XX", and a field that is exactly "-" is written "%2D": host names, DNS
// details and outcome texts come from peers, and none can end a line or
// shift a field. Lines of one kind keep their order; kinds may come in any
// order (the encoder writes hosts, failing, buckets). The end line makes a
// cut answer detectable.
//
// Limits (each a cap the decoder enforces and the encoder keeps to by
// cutting fields and dropping entries): the constants below. Pure.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mxw::proto {

struct health_host {
    std::string address;
    std::vector<std::string> names;  ///< MX host names that have this address
    std::string state;               ///< unknown|healthy|dead
    std::string source;              ///< probe|delivery: where the last observation came from
    std::string last_outcome;        ///< e.g. ok, banner-timeout, refused; "" when none yet
    std::int64_t last_at = 0;        ///< Unix seconds of the last observation, 0 unknown
    bool operator==(const health_host&) const = default;
};

struct failing_destination {
    std::string domain;
    /// What failed: servfail, timeout, bogus, no-address, nxdomain, null-mx, all-dead.
    std::string status;
    std::string detail;     ///< the failed lookups or the hosts' outcomes
    std::int64_t since = 0;  ///< Unix seconds, 0 unknown
    bool operator==(const failing_destination&) const = default;
};

struct activity_bucket {
    std::int64_t start = 0;  ///< Unix seconds
    std::uint64_t decisions = 0;
    std::uint64_t dns_failures = 0;
    std::uint64_t dead_hosts = 0;  ///< gauge at the bucket's end
    bool operator==(const activity_bucket&) const = default;
};

struct health_report {
    std::int64_t now = 0;  ///< Unix seconds when the report was made
    std::int64_t bucket_seconds = 300;
    std::vector<health_host> hosts;
    std::vector<failing_destination> failing;
    std::vector<activity_bucket> activity;  ///< oldest first, up to 24 h
    bool operator==(const health_report&) const = default;
};

// Caps. 10 000 hosts or destinations is far beyond what one MTA routes to
// at once and still makes an answer a CLI and a web page can show.
inline constexpr std::size_t max_health_hosts = 10000;
inline constexpr std::size_t max_health_failing = 10000;
// 24 hours of five-minute buckets.
inline constexpr std::size_t max_health_buckets = 288;
inline constexpr std::size_t max_health_names = 8;
inline constexpr std::int64_t max_health_bucket_seconds = 86400;
// Field lengths, before escaping: an IPv6 address with a zone fits 64;
// names and domains are DNS names; tokens are short words.
inline constexpr std::size_t max_health_address_bytes = 64;
inline constexpr std::size_t max_health_name_bytes = 255;
inline constexpr std::size_t max_health_token_bytes = 32;  ///< state, source, last-outcome, status
inline constexpr std::size_t max_health_detail_bytes = 512;
/// The whole report. The encoder drops hosts (then failing destinations)
/// that do not fit, so a report of 10 000 hosts with hostile names still
/// fits; real ones are a small fraction of it.
inline constexpr std::size_t max_health_report_bytes = 16 * 1024 * 1024;

/// The report as text, at most max_health_report_bytes. Fields longer than
/// their cap are cut, names past max_health_names and entries past their
/// counts dropped; then buckets, failing destinations and hosts are taken
/// in that order while the whole fits. bucket_seconds is clamped to 1 to
/// 86400 and negative times written as 0. state and source must be one of
/// their words (the caller's bug otherwise: the decoder refuses the line).
std::string encode_health_report(const health_report& r);

/// nullopt on anything malformed or over a cap: bytes after the end line,
/// a missing end line or counts that differ, an unknown line, a bad field.
std::optional<health_report> decode_health_report(std::string_view text);

}  // namespace mxw::proto
