// proto/socketmap.hpp: the socketmap lookup protocol of Postfix and Sendmail,
// one netstring (proto/netstring.hpp) per message (socketmap_table(5);
// Postfix util/dict_sockmap.c; Sendmail op.me "socket" map class):
//   request = mapname SP key           mapname = 1*( ALPHA / DIGIT / "_" / "." / "-" )
//   reply   = "OK " data / "NOTFOUND " / ( "TEMP" / "TIMEOUT" / "PERM" ) " " reason
// Limits: max_socketmap_request_bytes, max_socketmap_reply_bytes. Pure code: no
// case folding (Sendmail lower-cases keys, Postfix does not; the caller folds),
// no I/O, no knowledge of which maps exist.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace mxw::proto {

/// One lookup. `key` is the rest of the payload after the first space, kept
/// byte for byte: it may hold spaces, CR or LF, never NUL, and is never empty.
struct socketmap_request {
    std::string map;
    std::string key;
    bool operator==(const socketmap_request&) const = default;
};

/// Parses a request payload (the netstring's content, not the netstring).
/// nullopt with `ec` set when the map name is empty or holds a byte outside
/// [A-Za-z0-9_.-] (socketmap_bad_map_name), when there is no space or nothing
/// after it (socketmap_empty_key: Postfix and Sendmail never look up an empty
/// key), or when the key holds NUL (socketmap_nul_in_key: neither MTA can send
/// one, and any C API downstream would cut the key there). `ec` is cleared on
/// success.
std::optional<socketmap_request> parse_socketmap_request(std::string_view payload, std::error_code& ec);
/// The same, for callers that need no reason.
std::optional<socketmap_request> parse_socketmap_request(std::string_view payload);

/// Encodes the complete request netstring, "map key" as Postfix sends it
/// (used by the CLI and tests). A request that parse_socketmap_request()
/// would refuse is the caller's bug; it is encoded as given and the server
/// will refuse it.
std::string encode_socketmap_request(const socketmap_request& req);

enum class socketmap_status { ok, notfound, temp, timeout, perm };

/// The status word on the wire: "OK", "NOTFOUND", "TEMP", "TIMEOUT", "PERM".
std::string_view to_string(socketmap_status st) noexcept;

/// Encodes the complete reply netstring. `data` is the value for ok, the
/// reason for temp, timeout and perm, and ignored for notfound, which is
/// written "NOTFOUND " with the trailing space, as Postfix documents it.
/// CR, LF and NUL in `data` become spaces: a value is one line for Postfix,
/// and peer-derived text must not change its meaning. The payload never
/// exceeds max_socketmap_reply_bytes: a longer reason is cut (it is only
/// logged), and an ok value that does not fit is the caller's bug and becomes
/// "TEMP mxwarden: reply of N bytes exceeds 100000" rather than a truncated,
/// possibly wrong, value.
std::string encode_socketmap_reply(socketmap_status st, std::string_view data);

struct socketmap_reply {
    socketmap_status status = socketmap_status::notfound;
    std::string data;
    bool operator==(const socketmap_reply&) const = default;
};

/// Parses a reply payload as Postfix's dict_sockmap does: the status word is
/// the text before the first space (or all of it), compared case-sensitively;
/// `data` is everything after that space, verbatim, for every status. nullopt
/// for an unknown status word (Postfix treats that as a temporary error).
std::optional<socketmap_reply> parse_socketmap_reply(std::string_view payload);

}  // namespace mxw::proto
