// milter/milter_request.hpp: the milter's translation in both directions.
// Callback arguments and macros become a proto::policy_request, and the
// daemon's classified action becomes what a callback returns and which
// reply, header or quarantine goes with it. Also the message capture for
// the quarantine. Pure: no libmilter, no sockets, no logging; the callbacks
// in mxwarden_milter.cpp only feed and apply these values.
#pragma once
#include "proto/policy_attrs.hpp"
#include "proto/policy_reply.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mxw::milter {

/// smfi_setreply refuses a text over 980 bytes (libmilter MAXREPLYLEN).
inline constexpr std::size_t max_reply_text_bytes = 980;
/// One header field line may hold 998 octets (RFC 5322 §2.1.1); the name,
/// ": " and the value of an added header stay within that.
inline constexpr std::size_t max_header_line_bytes = 998;
/// Longest macro or argument copied into a policy attribute. Postfix's own
/// attribute values are the same SMTP tokens; anything longer is not an
/// address or host name and is cut, never sent as a too-long line.
inline constexpr std::size_t max_attribute_bytes = 1024;

/// The SMTP stage a policy request describes.
enum class stage { connect, mail, rcpt, end_of_message };
std::string_view protocol_state(stage s) noexcept;

/// Connect-stage macros as the MTA sent them (absent ones are empty), and
/// the callback's hostname argument plus the socket address in text form.
struct connect_macros {
    std::string client_addr;
    std::string client_name;
    std::string client_ptr;
    std::string client_resolve;  ///< OK | FORGED | TEMP | FAIL
    std::string hostname_arg;
    std::string sockaddr_text;
};

/// Fills client_address, client_name and reverse_client_name the way
/// Postfix fills them for its policy service, so the daemon's client check
/// treats both MTAs alike: client_name is a verified name ({client_resolve}
/// OK) or "unknown"; reverse_client_name is the unverified PTR name
/// ({client_ptr}) or "unknown". TEMP and FAIL both say "unknown", as Postfix
/// does; the daemon then looks the PTR up itself, and its own answer tells
/// a temporary failure from a missing PTR. Without {client_resolve} a name
/// is taken as verified unless it is "[ip]" or "unknown" (both MTAs put
/// only verified names there). The address drops Sendmail's "IPv6:" prefix
/// and brackets; without {client_addr} it comes from the socket address.
void apply_client(proto::policy_request& req, const connect_macros& m);

/// "<a@b>" -> "a@b", "<>" -> "", "<@relay:a@b>" -> "a@b" (source routes
/// are dropped, RFC 5321 §4.1.2). An address without brackets is kept.
std::string envelope_address(std::string_view arg);

/// A peer value made fit for one policy attribute: CR, LF and other control
/// bytes become '?', and at most max_attribute_bytes are kept.
std::string attribute_value(std::string_view v);

/// What a callback does with the daemon's answer.
struct milter_verdict {
    enum class kind {
        proceed,     ///< SMFIS_CONTINUE
        reject,      ///< smfi_setreply(rcode, xcode, text) + SMFIS_REJECT
        tempfail,    ///< smfi_setreply(rcode, xcode, text) + SMFIS_TEMPFAIL
        discard,     ///< SMFIS_DISCARD: the whole message is dropped
        tag,         ///< add header_name: header_value at end of message
        quarantine,  ///< capture the message, store it, then discard it
    } what = kind::proceed;
    std::string rcode;         ///< "550"
    std::string xcode;         ///< "5.7.27", or empty for none
    std::string text;          ///< escaped for smfi_setreply
    std::string header_name;
    std::string header_value;
    std::string reason;        ///< quarantine reason, e.g. "client-no-ptr"
    std::string note;          ///< why an answer was not acted on, for the log
};

/// Maps one classified answer. FILTER to `quarantine_transport` is the
/// quarantine; FILTER elsewhere, HOLD, WARN, REDIRECT and the like mean
/// nothing to a milter and proceed with a note. A reply code whose class
/// does not match its verdict never happens with proto's parser, but an
/// enhanced code of the wrong class is dropped: libmilter would refuse the
/// reply, and the MTA would answer its own generic text.
milter_verdict map_action(const proto::policy_action& a, std::string_view quarantine_transport);

/// Reply text for smfi_setreply: CR, LF and other control bytes become
/// spaces (libmilter refuses CR/LF), '%' is doubled (Sendmail reads the text
/// as a format and drops it for a lone '%'), and the result is cut to
/// max_reply_text_bytes without splitting a "%%".
std::string escape_reply_text(std::string_view text);

/// The verdict for a daemon that could not be asked: proceed (on-error
/// accept) or a 451 4.3.0 tempfail (on-error tempfail).
milter_verdict on_error_verdict(bool tempfail);

/// The whole message as the MTA hands it to the milter, for the quarantine.
/// Headers arrive one by one, then the body in chunks; the result has CRLF
/// line ends throughout (the body's own), capped at `max_bytes`: past it
/// nothing more is kept and overflowed() says so.
class message_capture {
public:
    explicit message_capture(std::size_t max_bytes) noexcept : max_(max_bytes) {}
    /// `value` as libmilter gives it; with SMFIP_HDR_LEADSPC negotiated it
    /// keeps its leading space (`raw_value`), else one space is put back.
    /// Folded lines may come with bare LF; they become CRLF.
    void add_header(std::string_view name, std::string_view value, bool raw_value);
    void end_of_headers();
    void add_body(std::string_view chunk);
    [[nodiscard]] bool overflowed() const noexcept { return overflow_; }
    [[nodiscard]] const std::string& data() const noexcept { return data_; }
    [[nodiscard]] std::size_t total_bytes() const noexcept { return total_; }

private:
    void append(std::string_view s);
    std::size_t max_;
    std::size_t total_ = 0;  // bytes offered, kept or not
    bool overflow_ = false;
    std::string data_;
};

}  // namespace mxw::milter
