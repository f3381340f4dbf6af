// proto/limits.hpp: every peer-controlled size mxwarden accepts, in one place.
// Each limit is tested at its value and one past it (tests/unit/proto_*).
#pragma once
#include <cstddef>

namespace mxw::proto {

// Postfix policy delegation (SMTPD_POLICY_README). Postfix itself reads lines
// up to line_length_limit (2048) and keeps attribute values up to four times
// that; 8192 keeps every legitimate value, including long ccert_subject lines.
inline constexpr std::size_t max_policy_line_bytes = 8192;
// Postfix 3.7 sends about 30 attributes, 3.12 a few more.
inline constexpr std::size_t max_policy_attributes = 100;
// Upper bound for one whole request, blank line included.
inline constexpr std::size_t max_policy_request_bytes = 32768;

// DNS names (RFC 1035 §3.1): 255 octets on the wire, labels up to 63.
inline constexpr std::size_t max_dns_name_bytes = 255;
inline constexpr std::size_t max_dns_label_bytes = 63;
// Compression pointers followed for one name in a DNS message (doctor's
// client only): a name has at most 127 labels, each could be a pointer.
inline constexpr std::size_t max_dns_pointer_hops = 127;

// How many PTR names of one address are forward-checked; more is an abuse
// of PTR records that no legitimate mail server needs.
inline constexpr std::size_t max_ptr_names_checked = 4;

// Control socket: one request line from the local CLI.
inline constexpr std::size_t max_control_line_bytes = 1024;

// Metrics endpoint (listen.metrics): one HTTP/1.x request head, request
// line and header fields up to the empty line. Scrapers, curl and browsers
// send well under 1 KiB; 8 KiB is the common server default (nginx's
// large_client_header_buffers line size).
inline constexpr std::size_t max_http_head_bytes = 8192;
inline constexpr std::size_t max_http_header_fields = 100;

// Longest peer-supplied string copied into a log line.
inline constexpr std::size_t max_logged_value_bytes = 200;

// Netstrings (cr.yp.to/proto/netstrings.txt; Postfix util/netstring.c).
// Digits in the length field, leading zeros included. Postfix writes no
// leading zeros but reads them; 10 digits leave room for a few around every
// payload limit below while keeping "000...0:" from being read forever.
inline constexpr std::size_t max_netstring_length_digits = 10;

// Socketmap (socketmap_table(5); Postfix util/dict_sockmap.c; Sendmail
// map.c). One request payload, "NAME KEY": keys are addresses, host names or
// next hops, which Postfix reads in lines of at most line_length_limit
// (2048); the same 4x headroom as max_policy_line_bytes.
inline constexpr std::size_t max_socketmap_request_bytes = 8192;
// One reply payload, framing excluded: Postfix's DICT_SOCKMAP_DEF_MAX_REPLY,
// compiled in. A longer reply is a lookup error for Postfix (Sendmail allows
// 1000000, so this bound suits both).
inline constexpr std::size_t max_socketmap_reply_bytes = 100000;

// One key of the dnsfilter map (Postfix smtp_dns_reply_filter): a resource
// record in text. The records decided on, MX, A and AAAA, need at most two
// 255-byte names, a 10-digit TTL and a 5-digit preference (about 540 bytes).
// Longer keys are TLSA or other records with long data, kept whatever they
// say, so the decoder refuses them rather than read them.
inline constexpr std::size_t max_dns_filter_key_bytes = 1024;

// SMTP replies: the MX greeting read by the banner prober (RFC 5321 §4.2).
// §4.5.3.1.5 allows reply lines of 512 octets with CRLF; some servers send
// longer banners, so a line may hold up to the 1000 octets of a text line
// (§4.5.3.1.6), CRLF included. Postfix reads the same lines in pieces of
// line_length_limit (2048) and keeps only 2048 bytes of a multi-line reply.
inline constexpr std::size_t max_smtp_reply_line_bytes = 1000;
// Lines in one reply: long legal-notice banners and EHLO replies stay well
// under this.
inline constexpr std::size_t max_smtp_reply_lines = 64;
// One whole reply, line ends included.
inline constexpr std::size_t max_smtp_reply_bytes = 16384;

// Quarantine. An envelope address passed to sendmail or SMTP on release:
// RFC 5321 §4.5.3.1.3 allows a path of 256 octets with its angle brackets.
inline constexpr std::size_t max_envelope_address_bytes = 254;
// Recipients of one ingest: pipe(8) hands over at most
// mxq_destination_recipient_limit (default 50) per call; 1000 leaves room
// for sites that raise it while bounding one argv.
inline constexpr std::size_t max_ingest_recipients = 1000;
// Header fields read from a stored message for listing and `show`: the
// header section searched, and the fields shown. Headers of real mail stay
// well below both; a message made of header lines must not make `list` slow.
inline constexpr std::size_t max_header_section_bytes = 256 * 1024;
inline constexpr std::size_t max_header_fields_shown = 200;
// Subject, From and Message-ID kept for listing (RFC 5322 §2.1.1 lines are
// at most 998 octets; a folded field may be longer, and is cut).
inline constexpr std::size_t max_summary_field_bytes = 998;
// Daemon evidence stored with an entry (the control socket's route answer).
inline constexpr std::size_t max_evidence_bytes = 64 * 1024;

// Web view (mxwarden-web): a form or query string, and a Cookie header.
// The largest legitimate form is a bulk action: a CSRF token and up to
// max_web_page_entries ids, each id=NNNNNNN&; 4096 fields and 64 KiB leave
// room for that with headroom and still cap what a client can make us hold.
inline constexpr std::size_t max_form_bytes = 64 * 1024;
inline constexpr std::size_t max_form_fields = 4096;
// One request target (path and query) of the web view. Our longest links
// are a filtered list page (five filters and a search); 2 KiB is what old
// browsers managed, and longer targets get 414 (RFC 9110 §15.5.15).
inline constexpr std::size_t max_http_target_bytes = 2048;
// Browsers send at most a few KiB of cookies per host (RFC 6265 §6.1 asks
// for at least 50 cookies of 4 KiB); we set one, so 100 is generous.
inline constexpr std::size_t max_cookies = 100;

}  // namespace mxw::proto
