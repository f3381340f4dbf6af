#include "proto/postfix_log.hpp"

#include "proto/dns_rdata.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace mxw::proto {
namespace {

// A program name longer than this is no Postfix service name; syslog tags
// are at most 32 characters by RFC 3164, and syslog_name may be longer but
// never unbounded.
constexpr std::size_t max_program_bytes = 128;
constexpr std::size_t max_detail_bytes = 512;
// Host names in "host[addr]" are DNS names (RFC 1035 §3.1) or an address.
constexpr std::size_t max_host_bytes = 255;
// Longest textual IPv6 address with an embedded IPv4 tail, plus slack for a
// zone index Postfix never logs but a forged line might.
constexpr std::size_t max_address_bytes = 64;
// Postfix queue IDs: 10-12 hex digits (short form), up to about 17
// characters (long form, enable_long_queue_ids).
constexpr std::size_t max_queue_id_bytes = 32;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string lower(std::string_view s)
{
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::optional<std::uint16_t> parse_port(std::string_view p)
{
    unsigned v = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (p.empty() || ec != std::errc() || end != p.data() + p.size() || v == 0 || v > 65535)
        return std::nullopt;
    return static_cast<std::uint16_t>(v);
}

bool valid_host(std::string_view h)
{
    if (h.empty() || h.size() > max_host_bytes)
        return false;
    for (char c : h)
        if (!is_alpha(c) && !is_digit(c) && c != '.' && c != '-' && c != '_' && c != ':')
            return false;
    return true;
}

// Postfix names the peer as "name[address]" (smtp session namaddr) and
// sometimes adds ":port". Parses that at the start of `s`; on success
// fills the event's host, address and port and leaves `s` just past it.
bool take_peer(std::string_view& s, delivery_event& ev, bool port_allowed)
{
    auto open = s.find('[');
    if (open == std::string_view::npos || open > max_host_bytes)
        return false;
    auto close = s.find(']', open);
    if (close == std::string_view::npos || close - open - 1 > max_address_bytes)
        return false;
    std::string_view host = s.substr(0, open);
    std::string_view addr = s.substr(open + 1, close - open - 1);
    if (!valid_host(host))
        return false;
    auto canonical = canonical_address(std::string(addr));
    if (!canonical)
        return false;
    std::string_view rest = s.substr(close + 1);
    std::uint16_t port = 25;
    if (port_allowed && starts_with(rest, ":")) {
        std::size_t n = 1;
        while (n < rest.size() && n < 7 && is_digit(rest[n]))
            ++n;
        auto p = parse_port(rest.substr(1, n - 1));
        if (!p)
            return false;
        port = *p;
        rest.remove_prefix(n);
    }
    ev.host = lower(host);
    ev.address = std::move(*canonical);
    ev.port = port;
    s = rest;
    return true;
}

// The stage tokens of the header, from Postfix's own wording: the "while
// ..." or "after ..." phrase of a timeout or lost connection, and the "in
// reply to ... command" of a reply. Checked in order, longest phrase first,
// because "end of DATA" contains "DATA". RSET and QUIT come after the
// message is settled and are no delivery failure, so they have no stage.
struct stage_phrase {
    std::string_view phrase;
    std::string_view stage;
};
constexpr std::array<stage_phrase, 13> stage_phrases{{
    {"initial server greeting", "greeting"},
    {"end of data", "end-of-data"},
    {"end of DATA", "end-of-data"},
    {"message body", "data"},
    {"DATA", "data"},
    {"RCPT", "rcpt"},
    {"MAIL FROM", "mail"},
    {"TLS handshake", "tls"},
    {"STARTTLS", "starttls"},
    {"XFORWARD", "ehlo"},
    {"XCLIENT", "ehlo"},
    {"EHLO", "ehlo"},
    {"HELO", "ehlo"},
}};

std::optional<std::string_view> stage_of(std::string_view phrase)
{
    // Only the first clause counts: the remote's own text after it must not
    // pick the stage.
    for (const auto& [p, stage] : stage_phrases)
        if (phrase.find(p) != std::string_view::npos)
            return stage;
    return std::nullopt;
}

std::optional<delivery_event> with_detail(delivery_event ev, std::string_view text)
{
    ev.detail = std::string(text.substr(0, max_detail_bytes));
    return ev;
}

// "connect to H[A]:P: Connection refused" (smtp_connect.c).
std::optional<delivery_event> parse_connect(std::string_view text)
{
    std::string_view s = text.substr(std::string_view("connect to ").size());
    delivery_event ev;
    if (!take_peer(s, ev, true) || !starts_with(s, ": "))
        return std::nullopt;
    std::string_view why = s.substr(2);
    // Only what the host's side caused: "Network is unreachable" or "No
    // route to host" are about our own routing (often IPv6 without a
    // route) and say nothing about the host.
    if (starts_with(why, "Connection refused"))
        ev.outcome = delivery_outcome::refused;
    else if (starts_with(why, "Connection timed out"))
        ev.outcome = delivery_outcome::connect_timeout;
    else
        return std::nullopt;
    ev.stage = "connect";
    return with_detail(std::move(ev), text);
}

// "conversation with H[A] timed out while PHASE" and
// "lost connection with H[A] while PHASE" (smtp_trouble.c, smtp_stream_except).
std::optional<delivery_event> parse_broken(std::string_view text, std::string_view prefix, bool timed_out)
{
    std::string_view s = text.substr(prefix.size());
    delivery_event ev;
    if (!take_peer(s, ev, true))
        return std::nullopt;
    if (timed_out) {
        if (!starts_with(s, " timed out"))
            return std::nullopt;
        s.remove_prefix(std::string_view(" timed out").size());
    }
    if (!starts_with(s, " while ") && !starts_with(s, " after "))
        return std::nullopt;
    auto stage = stage_of(s);
    if (!stage)
        return std::nullopt;
    ev.stage = std::string(*stage);
    if (ev.stage == "greeting")
        ev.outcome = timed_out ? delivery_outcome::greeting_timeout : delivery_outcome::lost;
    else
        ev.outcome = timed_out ? delivery_outcome::timeout : delivery_outcome::lost;
    return with_detail(std::move(ev), text);
}

// "host H[A] refused to talk to me: 421 ..." (a 4xx/5xx greeting) and
// "host H[A] said: 421 ... (in reply to MAIL FROM command)".
std::optional<delivery_event> parse_host_reply(std::string_view text)
{
    std::string_view s = text.substr(std::string_view("host ").size());
    delivery_event ev;
    if (!take_peer(s, ev, false))
        return std::nullopt;
    if (starts_with(s, " refused to talk to me: ")) {
        s.remove_prefix(std::string_view(" refused to talk to me: ").size());
        if (s.size() < 3 || !is_digit(s[1]) || !is_digit(s[2]))
            return std::nullopt;
        if (s[0] == '4')
            ev.outcome = delivery_outcome::greeting_4xx;
        else if (s[0] == '5')
            ev.outcome = delivery_outcome::greeting_5xx;
        else
            return std::nullopt;
        ev.stage = "greeting";
        return with_detail(std::move(ev), text);
    }
    if (!starts_with(s, " said: "))
        return std::nullopt;
    s.remove_prefix(std::string_view(" said: ").size());
    // Postfix appends the command last: the remote's text comes before it
    // and may hold anything, so the suffix is taken from the end.
    constexpr std::string_view reply_to = " (in reply to ";
    auto at = s.rfind(reply_to);
    if (at == std::string_view::npos || s.size() < 3 || !is_digit(s[1]) || !is_digit(s[2]) || s.back() != ')')
        return std::nullopt;
    std::string_view command = s.substr(at + reply_to.size());
    auto stage = stage_of(command);
    if (!stage)
        return std::nullopt;
    // A reply to STARTTLS that refuses it leaves no TLS where TLS was
    // wanted; any other refusal is about the message, not the host,
    // unless it is 421, which closes the session (RFC 5321 §3.8).
    if (*stage == "starttls" && (s[0] == '4' || s[0] == '5'))
        ev.outcome = delivery_outcome::tls_failure;
    else if (starts_with(s, "421"))
        ev.outcome = delivery_outcome::lost;
    else
        return std::nullopt;
    ev.stage = std::string(*stage);
    return with_detail(std::move(ev), text);
}

// "SSL_connect error to H[A]:P: ..." (tls_client.c).
std::optional<delivery_event> parse_tls_error(std::string_view text)
{
    std::string_view s = text.substr(std::string_view("SSL_connect error to ").size());
    delivery_event ev;
    if (!take_peer(s, ev, true) || !starts_with(s, ":"))
        return std::nullopt;
    ev.outcome = delivery_outcome::tls_failure;
    ev.stage = "tls";
    return with_detail(std::move(ev), text);
}

std::optional<delivery_event> parse_trouble(std::string_view text);

bool take_number(std::string_view& s)
{
    std::size_t n = 0;
    while (n < s.size() && (is_digit(s[n]) || s[n] == '.'))
        ++n;
    s.remove_prefix(n);
    return n > 0;
}

bool take_literal(std::string_view& s, std::string_view lit)
{
    if (!starts_with(s, lit))
        return false;
    s.remove_prefix(lit.size());
    return true;
}

// The fields after "relay=" up to "status=WORD (", in Postfix's fixed order
// (log_adhoc.c): "relay=H[A]:P, [conn_use=N, ]delay=D, delays=a/b/c/d,
// dsn=X.Y.Z, status=WORD (". Fills host, address and port; leaves `s` at
// the status word.
bool take_status_fields(std::string_view& s, delivery_event& ev)
{
    if (!take_literal(s, "relay=") || !take_peer(s, ev, true) || !take_literal(s, ", "))
        return false;
    if (take_literal(s, "conn_use=") && !(take_number(s) && take_literal(s, ", ")))
        return false;
    if (!take_literal(s, "delay=") || !take_number(s) || !take_literal(s, ", delays="))
        return false;
    for (int i = 0; i < 4; ++i)
        if (!take_number(s) || (i < 3 && !take_literal(s, "/")))
            return false;
    if (!take_literal(s, ", dsn=") || !take_number(s) || !take_literal(s, ", status="))
        return false;
    return true;
}

// "to=<a@b>, relay=H[A]:P, ..., status=sent (250 ...)". The recipient
// address before relay= and the server's text after status= are both
// chosen by others and may imitate the fields, so every ", relay=" is
// tried and the line counts only if exactly one of them starts the whole
// field sequence; an ambiguous line is dropped rather than guessed at.
std::optional<delivery_event> parse_status(std::string_view s)
{
    std::optional<delivery_event> found;
    std::string_view status;
    for (auto at = s.find(", relay="); at != std::string_view::npos; at = s.find(", relay=", at + 1)) {
        std::string_view rest = s.substr(at + 2);
        delivery_event ev;
        if (!take_status_fields(rest, ev))
            continue;
        if (found)
            return std::nullopt;
        found = std::move(ev);
        status = rest;
    }
    if (!found || status.empty() || status.back() != ')')
        return std::nullopt;
    if (take_literal(status, "sent (")) {
        found->outcome = delivery_outcome::sent;
        found->detail = std::string(status.substr(0, std::min(status.size() - 1, max_detail_bytes)));
        return found;
    }
    if (!take_literal(status, "deferred (") && !take_literal(status, "bounced ("))
        return std::nullopt;
    // The last address Postfix tried for a message reports its trouble only
    // here (see the header), so the reason is decoded like a trouble line.
    // It must name the relay's own address; "Cannot start TLS" names none
    // and was already counted by its "SSL_connect error" line.
    status.remove_suffix(1);
    auto trouble = parse_trouble(status);
    if (!trouble || trouble->address != found->address)
        return std::nullopt;
    trouble->port = found->port;
    return trouble;
}

std::optional<delivery_event> parse_trouble(std::string_view text)
{
    if (starts_with(text, "connect to "))
        return parse_connect(text);
    if (starts_with(text, "conversation with "))
        return parse_broken(text, "conversation with ", true);
    if (starts_with(text, "lost connection with "))
        return parse_broken(text, "lost connection with ", false);
    if (starts_with(text, "host "))
        return parse_host_reply(text);
    if (starts_with(text, "SSL_connect error to "))
        return parse_tls_error(text);
    return std::nullopt;
}

// A queue ID prefix "3F1A2B4C5D: " or "4Ld0Sb2W0Wz9vF2: ". Postfix's own
// "warning: ", "fatal: " and the like are lower case words and are not
// queue IDs.
std::string_view take_queue_id(std::string_view& s)
{
    std::size_t n = 0;
    while (n < s.size() && n <= max_queue_id_bytes && (is_alpha(s[n]) || is_digit(s[n])))
        ++n;
    if (n == 0 || n > max_queue_id_bytes || s.substr(n, 2) != ": ")
        return {};
    std::string_view id = s.substr(0, n);
    bool all_lower = true;
    for (char c : id)
        all_lower = all_lower && is_lower(c);
    if (all_lower)
        return {};
    s.remove_prefix(n + 2);
    return id;
}

}  // namespace

std::string_view to_string(delivery_outcome o) noexcept
{
    switch (o) {
    case delivery_outcome::sent: return "sent";
    case delivery_outcome::refused: return "refused";
    case delivery_outcome::connect_timeout: return "connect-timeout";
    case delivery_outcome::greeting_timeout: return "greeting-timeout";
    case delivery_outcome::greeting_4xx: return "greeting-4xx";
    case delivery_outcome::greeting_5xx: return "greeting-5xx";
    case delivery_outcome::lost: return "lost";
    case delivery_outcome::timeout: return "timeout";
    case delivery_outcome::tls_failure: return "tls-failure";
    }
    return "unknown";
}

std::optional<syslog_line> split_syslog_line(std::string_view line) noexcept
{
    if (line.size() > max_postfix_log_line_bytes)
        return std::nullopt;
    if (!line.empty() && line.back() == '\n')
        line.remove_suffix(1);
    auto next_token = [&line]() -> std::string_view {
        while (!line.empty() && line.front() == ' ')
            line.remove_prefix(1);
        auto end = line.find(' ');
        if (end == std::string_view::npos)
            return {};
        std::string_view tok = line.substr(0, end);
        line.remove_prefix(end);
        return tok;
    };
    // RFC 3339 ("2024-12-06T07:00:00.123456+00:00", rsyslog's high
    // precision format) is one token; RFC 3164 ("Dec  6 07:00:00") is three,
    // the day padded with a space.
    std::string_view first = next_token();
    if (first.empty())
        return std::nullopt;
    if (is_digit(first.front())) {
        if (first.size() < 19 || first[4] != '-' || first[10] != 'T')
            return std::nullopt;
    } else {
        std::string_view day = next_token();
        std::string_view time = next_token();
        if (first.size() != 3 || day.empty() || day.size() > 2 || time.size() < 8 || time[2] != ':')
            return std::nullopt;
    }
    if (next_token().empty())  // the host name
        return std::nullopt;
    while (!line.empty() && line.front() == ' ')
        line.remove_prefix(1);
    auto colon = line.find(": ");
    if (colon == std::string_view::npos)
        return std::nullopt;
    std::string_view tag = line.substr(0, colon);
    std::string_view program = tag;
    if (!tag.empty() && tag.back() == ']') {
        auto open = tag.find('[');
        if (open == std::string_view::npos)
            return std::nullopt;
        for (char c : tag.substr(open + 1, tag.size() - open - 2))
            if (!is_digit(c))
                return std::nullopt;
        program = tag.substr(0, open);
    }
    if (program.empty() || program.size() > max_program_bytes || program.find_first_of(" []") != std::string_view::npos)
        return std::nullopt;
    return syslog_line{program, line.substr(colon + 2)};
}

std::optional<delivery_event> parse_smtp_message(std::string_view program, std::string_view message)
{
    constexpr std::string_view smtp_suffix = "/smtp";
    if (program.size() > max_program_bytes || program.size() <= smtp_suffix.size() ||
        program.substr(program.size() - smtp_suffix.size()) != smtp_suffix)
        return std::nullopt;
    if (message.size() > max_postfix_log_line_bytes)
        return std::nullopt;
    std::string_view s = message;
    std::string_view queue_id = take_queue_id(s);
    std::optional<delivery_event> ev = starts_with(s, "to=<") ? parse_status(s) : parse_trouble(s);
    if (ev)
        ev->queue_id = std::string(queue_id);
    return ev;
}

}  // namespace mxw::proto
