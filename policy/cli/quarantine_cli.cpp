#include "cli/quarantine_cli.hpp"

#include "cli/blocking_socket.hpp"
#include "cli/release.hpp"
#include "cli/verb_config.hpp"
#include "base/args.hpp"
#include "base/config.hpp"
#include "base/duration.hpp"
#include "proto/json.hpp"
#include "proto/json_indent.hpp"
#include "proto/limits.hpp"
#include "proto/mail_address.hpp"
#include "proto/message_headers.hpp"
#include "proto/reinjection.hpp"
#include "proto/sanitize.hpp"
#include "store/open_store.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <map>
#include <pwd.h>
#include <span>
#include <sstream>
#include <sysexits.h>
#include <unistd.h>

namespace mxw::cli {
namespace {

using store::entry_state;

constexpr std::string_view usage = R"(usage: mxwarden [-c FILE] [--section.key=value ...] quarantine VERB ...

verbs:
  ingest [--reason R] [--reason-text T] [--queue-id Q] --sender S|-f S -- RCPT...
                  store the message on stdin (run by the MTA: Postfix pipe(8)
                  transport mxq, Sendmail prog mailer); exit 0 stored, 75 retry
  list [--reason R] [--domain D] [--sender ADDR] [--search TEXT] [--since DURATION|DATE]
       [--state held|releasing|released|deleted|all] [--json]
                  one line per entry; the default state is held; --sender is
                  the whole envelope sender ("<>" the null sender), --search a
                  piece of the sender, any recipient or the subject; both case-blind
  show ID [--json]       envelope, headers, reason, evidence and history
  cat ID                 the raw message
  release ID... [--dry-run]
  release --all-matching [--reason R] [--domain D] [--since T] [--dry-run]
                  re-inject held mail with its original envelope (quarantine.release-via)
  delete ID...           drop the message, keep the entry until purge
  purge [--older-than DURATION] [--include-held]
                  remove released and deleted entries (default: quarantine.retention)
  stats [--json]         entries and bytes by state and reason

DATE is YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS], UTC.
)";

// What each verb takes; anything else is a usage error, so a typo in an
// MTA's argv is found at once rather than silently changing meaning.
// Every verb also takes --section.key=value overrides.
struct verb_spec {
    std::string_view name;
    std::vector<base::arg_option> options;
};

const std::vector<verb_spec>& verbs()
{
    using base::takes_value;
    static const std::vector<verb_spec> v = {
        {"ingest",
         {{"--reason", takes_value},
          {"--reason-text", takes_value},
          {"--queue-id", takes_value},
          {"--sender", takes_value},
          {"-f", takes_value}}},
        {"list",
         {{"--reason", takes_value}, {"--domain", takes_value}, {"--sender", takes_value}, {"--search", takes_value},
          {"--since", takes_value}, {"--state", takes_value}, {"--json"}}},
        {"show", {{"--json"}}},
        {"cat", {}},
        {"release",
         {{"--reason", takes_value}, {"--domain", takes_value}, {"--since", takes_value}, {"--all-matching"},
          {"--dry-run"}}},
        {"delete", {}},
        {"purge", {{"--older-than", takes_value}, {"--include-held"}}},
        {"stats", {{"--json"}}},
    };
    return v;
}

struct verb_args {
    std::string verb;  ///< empty when none or an unknown one was given
    base::parsed_args args;
    std::vector<std::string> errors;

    [[nodiscard]] bool has(std::string_view f) const { return args.has(f); }
    [[nodiscard]] const std::string* opt(std::string_view o) const { return args.value(o); }
    /// Entry ids, or recipients for ingest.
    [[nodiscard]] const std::vector<std::string>& words() const { return args.positional; }
};

verb_args parse_verb(std::span<const std::string_view> args)
{
    verb_args a;
    if (args.empty()) {
        a.errors.push_back("no verb given");
        return a;
    }
    auto spec = std::find_if(verbs().begin(), verbs().end(), [&](const verb_spec& s) { return s.name == args[0]; });
    if (spec == verbs().end()) {
        a.errors.push_back("unknown verb '" + proto::sanitize(args[0]) + "'");
        return a;
    }
    a.verb = spec->name;
    a.args = base::parse_args(args.subspan(1), {spec->options, base::config_args::overrides});
    a.errors = a.args.errors;
    return a;
}

std::int64_t now() { return static_cast<std::int64_t>(std::time(nullptr)); }

std::string format_age(std::int64_t seconds)
{
    if (seconds < 0)
        seconds = 0;
    if (seconds < 120)
        return std::to_string(seconds) + "s";
    if (seconds < 7200)
        return std::to_string(seconds / 60) + "m";
    if (seconds < 2 * 86400)
        return std::to_string(seconds / 3600) + "h";
    return std::to_string(seconds / 86400) + "d";
}

std::string format_size(std::int64_t bytes)
{
    if (bytes < 10 * 1024)
        return std::to_string(bytes);
    if (bytes < 10 * 1024 * 1024)
        return std::to_string(bytes / 1024) + "K";
    return std::to_string(bytes / (1024 * 1024)) + "M";
}

std::optional<std::int64_t> parse_id(std::string_view s)
{
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v <= 0)
        return std::nullopt;
    return v;
}

/// A duration back from now ("2h"), or a UTC date or date and time.
std::optional<std::int64_t> parse_since(std::string_view s)
{
    if (auto d = base::parse_duration(s))
        return now() - std::chrono::duration_cast<std::chrono::seconds>(*d).count();
    std::string str(s);
    for (const char* fmt : {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"}) {
        std::tm tm{};
        const char* end = strptime(str.c_str(), fmt, &tm);
        if (end && *end == '\0')
            return static_cast<std::int64_t>(timegm(&tm));
    }
    return std::nullopt;
}

struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

store::list_filter filter_from(const verb_args& a, std::optional<entry_state> default_state)
{
    store::list_filter f;
    f.state = default_state;
    if (auto* r = a.opt("--reason"))
        f.reason = *r;
    if (auto* d = a.opt("--domain"))
        f.domain = *d;
    if (auto* s = a.opt("--sender"))
        f.sender = *s == "<>" ? std::string() : *s;
    if (auto* t = a.opt("--search"))
        f.text = *t;
    if (auto* s = a.opt("--since")) {
        f.since = parse_since(*s);
        if (!f.since)
            throw usage_error("--since: '" + proto::sanitize(*s) + "' is neither a duration (2h, 7d) nor a date");
    }
    if (auto* st = a.opt("--state")) {
        if (*st == "all")
            f.state = std::nullopt;
        else if (!(f.state = store::parse_entry_state(*st)))
            throw usage_error("--state: '" + proto::sanitize(*st) +
                              "' is not one of held, releasing, released, deleted, all");
    }
    return f;
}

store::store_location store_of(const base::config& cfg)
{
    return {cfg.quarantine.database, cfg.store.url, cfg.store.node};
}

// The admin verbs read a store that may not exist yet (nothing was ever
// quarantined): nullptr then.
std::unique_ptr<store::quarantine> open_existing(const base::config& cfg)
{
    return store::open_quarantine(store_of(cfg), store::open_mode::existing);
}

// For show's multi-line text: quotes and backslashes stay as they are
// (they are JSON's own escapes), every byte that could move the terminal's
// cursor or end a line is shown as \xHH.
std::string printable(std::string_view s, std::size_t max)
{
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < s.size() && i < max; ++i) {
        auto u = static_cast<unsigned char>(s[i]);
        if (u >= 0x20 && u < 0x7f) {
            out.push_back(s[i]);
        } else {
            out += "\\x";
            out.push_back(hex[u >> 4]);
            out.push_back(hex[u & 15]);
        }
    }
    if (s.size() > max)
        out += "...";
    return out;
}

std::string recipients_column(const store::entry_summary& s)
{
    std::string r = proto::sanitize(s.first_recipient, 40);
    if (s.recipient_count > 1)
        r += " (+" + std::to_string(s.recipient_count - 1) + ")";
    return r;
}

void summary_json(proto::json_writer& w, const store::entry_summary& s)
{
    w.key("id").value(s.id);
    w.key("created").value(s.created).key("created_utc").value(format_utc(s.created));
    w.key("updated").value(s.updated);
    w.key("state").value(store::to_string(s.state));
    w.key("reason").value(s.reason);
    w.key("sender").value(s.sender);
    w.key("first_recipient").value(s.first_recipient).key("recipient_count").value(s.recipient_count);
    w.key("size").value(s.size).key("subject").value(s.subject).key("attempts").value(s.attempts);
    if (!s.node.empty())
        w.key("node").value(s.node);
}

// ---- ingest ----------------------------------------------------------------

// pipe(8) takes a reply that starts with an enhanced status code as the
// delivery status (it beats the exit code), and shows the text in the
// bounce or the queue listing; Sendmail goes by the exit status alone.
constexpr int ingest_retry = EX_TEMPFAIL;

int ingest_fail(std::string_view text)
{
    std::cout << "4.3.0 quarantine unavailable: " << proto::sanitize(text, 400) << std::endl;
    return ingest_retry;
}

// A broken mxq argv (no recipient, a bad address) is the admin's mistake,
// not the sender's: exit 75 keeps the mail queued while master.cf is fixed,
// where a bounce would send it back for something the sender cannot help.
int ingest_misconfigured(std::string_view text)
{
    std::cout << "4.3.5 mxwarden quarantine ingest: " << proto::sanitize(text, 400)
              << " (check the mxq command line in master.cf or the Sendmail mailer)" << std::endl;
    return ingest_retry;
}

struct read_result {
    std::string data;
    std::size_t total = 0;
};

// Reads stdin to the end even past the cap: pipe(8) counts a message the
// command did not read as delivered if it exits 0, and a bounce with a
// clear reason needs the command to run to completion.
read_result read_stdin(std::size_t cap)
{
    read_result r;
    std::string buf(65536, '\0');
    for (;;) {
        ssize_t n = ::read(0, buf.data(), buf.size());
        if (n == 0)
            return r;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw std::runtime_error(std::string("reading the message: ") + std::strerror(errno));
        }
        auto got = static_cast<std::size_t>(n);
        r.total += got;
        if (r.data.size() < cap)
            r.data.append(buf.data(), std::min(got, cap - r.data.size()));
    }
}

// The daemon's view of the destination, kept as evidence. Best effort:
// ingest never waits long or fails for it.
std::string ask_evidence(const base::config& cfg, const std::string& domain)
{
    if (domain.empty() || domain.find_first_of(" \t\r\n") != std::string::npos)
        return {};
    try {
        auto deadline = blocking_socket::clock::now() + std::chrono::seconds(2);
        blocking_socket s(cfg.listen_control, deadline);
        s.write_all("route " + domain + " json\n", deadline);
        std::string resp;
        while (resp.size() <= proto::max_evidence_bytes &&
               s.read_some(resp, proto::max_evidence_bytes + 1 - resp.size(), deadline)) {
        }
        if (resp.size() > proto::max_evidence_bytes || !proto::indent_json(resp))
            return {};
        while (!resp.empty() && (resp.back() == '\n' || resp.back() == '\r'))
            resp.pop_back();
        return resp;
    } catch (const std::exception&) {
        return {};
    }
}

int ingest(const verb_args& a, const base::config& cfg)
{
    store::new_entry e;
    const std::string* sender = a.opt("--sender") ? a.opt("--sender") : a.opt("-f");
    if (!sender)
        return ingest_misconfigured("no --sender (or -f) given");
    e.sender = proto::normalize_sender(*sender);
    if (auto why = proto::check_envelope_address(e.sender, true))
        return ingest_misconfigured("the sender " + *why);
    if (a.words().empty())
        return ingest_misconfigured("no recipient given");
    if (a.words().size() > proto::max_ingest_recipients)
        return ingest_misconfigured("more than " + std::to_string(proto::max_ingest_recipients) + " recipients");
    for (const auto& r : a.words()) {
        if (auto why = proto::check_envelope_address(r, false))
            return ingest_misconfigured("recipient '" + r + "' " + *why);
        e.recipients.push_back(r);
    }
    e.reason = a.opt("--reason") ? *a.opt("--reason") : "unspecified";
    if (e.reason.empty() || e.reason.size() > 100 ||
        std::any_of(e.reason.begin(), e.reason.end(), [](char c) { return c <= ' ' || c >= 0x7f; }))
        return ingest_misconfigured("the reason must be one printable word of at most 100 bytes");
    if (auto* t = a.opt("--reason-text"))
        e.reason_text = t->substr(0, 1000);
    if (auto* q = a.opt("--queue-id"))
        e.queue_id = q->substr(0, 100);

    auto in = read_stdin(cfg.quarantine.max_message_bytes);
    if (in.total > cfg.quarantine.max_message_bytes) {
        // A permanent failure that loses nothing: the MTA bounces the
        // message back to its sender with this text.
        std::cout << "5.3.4 message too big for the quarantine (" << in.total << " bytes, limit "
                  << cfg.quarantine.max_message_bytes << ")" << std::endl;
        return EX_DATAERR;
    }
    e.message = std::move(in.data);
    // Asked before the write lock is taken, so a slow daemon never holds up
    // other ingests.
    e.evidence = ask_evidence(cfg, proto::address_domain(e.recipients.front()));

    auto qs = store::open_quarantine(store_of(cfg), store::open_mode::create);
    // The limit is measured here, once per ingest: "auto" follows the disk
    // as it fills or frees up without any process having to stay around.
    auto limit = qs->max_bytes(cfg.quarantine.max_bytes);
    auto r = qs->ingest(e, now(), proto::parse_quarantine_id(e.message), limit);
    switch (r.what) {
    case store::ingest_result::kind::stored: std::cout << "quarantined as entry " << r.id << "\n"; break;
    case store::ingest_result::kind::duplicate: std::cout << "already quarantined as entry " << r.id << "\n"; break;
    case store::ingest_result::kind::returned: std::cout << "returned to entry " << r.id << "\n"; break;
    }
    return 0;
}

// ---- review ----------------------------------------------------------------

int list(const verb_args& a, const base::config& cfg)
{
    auto f = filter_from(a, entry_state::held);
    auto qs = open_existing(cfg);
    std::vector<store::entry_summary> rows;
    if (qs)
        rows = qs->list(f);
    if (a.has("--json")) {
        proto::json_writer w;
        w.begin_array();
        for (const auto& s : rows) {
            w.begin_object();
            summary_json(w, s);
            w.end_object();
        }
        w.end_array();
        std::cout << w.str() << "\n";
        return 0;
    }
    auto t = now();
    std::ostringstream out;
    // A shared store lists every node's entries: say which took each.
    const bool fleet = !cfg.store.url.empty();
    out << std::left << std::setw(7) << "ID" << std::setw(20) << "QUEUED (UTC)" << std::setw(6) << "AGE"
        << std::setw(9) << "STATE" << (fleet ? "NODE            " : "") << std::setw(16) << "REASON" << std::setw(28) << "SENDER" << std::setw(34)
        << "RECIPIENT" << std::setw(7) << "SIZE"
        << "SUBJECT\n";
    for (const auto& s : rows) {
        out << std::setw(7) << s.id << std::setw(20) << format_utc(s.created) << std::setw(6)
            << format_age(t - s.created) << std::setw(9) << store::to_string(s.state);
        if (fleet)
            out << std::setw(16) << proto::sanitize(s.node, 15);
        out << std::setw(16)
            << proto::sanitize(s.reason, 15) << std::setw(28)
            << (s.sender.empty() ? std::string("<>") : proto::sanitize(s.sender, 26)) << std::setw(34)
            << recipients_column(s) << std::setw(7) << format_size(s.size) << proto::sanitize(s.subject, 60) << "\n";
    }
    std::cout << out.str();
    if (rows.empty())
        std::cout << "(no entries" << (f.state ? " in state " + std::string(store::to_string(*f.state)) : "") << ")\n";
    return 0;
}

std::optional<std::int64_t> one_id(const verb_args& a)
{
    if (a.words().size() != 1)
        throw usage_error("give exactly one entry id");
    auto id = parse_id(a.words()[0]);
    if (!id)
        throw usage_error("'" + proto::sanitize(a.words()[0]) + "' is not an entry id");
    return id;
}

int unknown_id(std::int64_t id)
{
    std::cerr << "mxwarden: no quarantine entry " << id << "\n";
    return EX_NOINPUT;
}

int show(const verb_args& a, const base::config& cfg)
{
    auto id = *one_id(a);
    auto qs = open_existing(cfg);
    auto d = qs ? qs->find(id) : std::nullopt;
    if (!d)
        return unknown_id(id);
    auto msg = qs->message(id);
    auto headers = msg ? proto::parse_header_fields(*msg, proto::max_header_fields_shown)
                       : std::vector<proto::header_field>{};
    const auto& s = d->summary;
    auto evidence = d->evidence.empty() ? std::nullopt : proto::indent_json(d->evidence);
    if (a.has("--json")) {
        proto::json_writer w;
        w.begin_object();
        summary_json(w, s);
        w.key("reason_text").value(d->reason_text).key("queue_id").value(d->queue_id);
        w.key("header_from").value(d->header_from).key("message_id").value(d->message_id);
        w.key("recipients").begin_array();
        for (const auto& r : d->recipients)
            w.value(r);
        w.end_array();
        w.key("has_message").value(d->has_message);
        w.key("headers").begin_array();
        for (const auto& h : headers)
            w.begin_object().key("name").value(h.name).key("value").value(h.value).end_object();
        w.end_array();
        w.key("evidence");
        if (evidence)
            w.raw_value(d->evidence);
        else
            w.begin_object().end_object();
        w.key("history").begin_array();
        for (const auto& h : d->history)
            w.begin_object().key("at").value(h.at).key("event").value(h.event).key("detail").value(h.detail).end_object();
        w.end_array();
        w.end_object();
        std::cout << w.str() << "\n";
        return 0;
    }
    auto t = now();
    std::ostringstream out;
    out << "entry " << s.id << ": " << store::to_string(s.state) << ", attempt " << s.attempts << "\n";
    out << "  quarantined  " << format_utc(s.created) << " UTC (" << format_age(t - s.created) << " ago)\n";
    if (s.updated != s.created)
        out << "  updated      " << format_utc(s.updated) << " UTC\n";
    out << "  reason       " << proto::sanitize(s.reason);
    if (!d->reason_text.empty())
        out << ": " << proto::sanitize(d->reason_text, 1000);
    out << "\n  queue id     " << (d->queue_id.empty() ? "-" : proto::sanitize(d->queue_id)) << "\n";
    if (!s.node.empty())
        out << "  taken by     " << proto::sanitize(s.node) << "\n";
    out << "  sender       <" << proto::sanitize(s.sender) << ">\n";
    for (std::size_t i = 0; i < d->recipients.size(); ++i)
        out << (i == 0 ? "  recipients   <" : "               <") << proto::sanitize(d->recipients[i]) << ">\n";
    out << "  size         " << s.size << " bytes" << (d->has_message ? "" : " (message deleted)") << "\n";
    if (!headers.empty()) {
        out << "headers:\n";
        for (const auto& h : headers)
            out << "  " << printable(h.name, 80) << ": " << printable(h.value, 300) << "\n";
    }
    out << "evidence:\n";
    if (evidence) {
        std::istringstream lines(*evidence);
        for (std::string line; std::getline(lines, line);)
            out << "  " << printable(line, 1000) << "\n";
    } else {
        out << "  (none: the daemon was not reachable at ingest)\n";
    }
    out << "history:\n";
    for (const auto& h : d->history)
        out << "  " << format_utc(h.at) << "  " << std::left << std::setw(15) << h.event << proto::sanitize(h.detail, 400)
            << "\n";
    std::cout << out.str();
    return 0;
}

int cat(const verb_args& a, const base::config& cfg)
{
    auto id = *one_id(a);
    auto qs = open_existing(cfg);
    auto msg = qs ? qs->message(id) : std::nullopt;
    if (!msg) {
        if (qs && qs->find(id)) {
            std::cerr << "mxwarden: entry " << id << " was deleted; its message is gone\n";
            return EX_NOINPUT;
        }
        return unknown_id(id);
    }
    if (std::fwrite(msg->data(), 1, msg->size(), stdout) != msg->size() || std::fflush(stdout) != 0) {
        std::cerr << "mxwarden: writing the message: " << std::strerror(errno) << "\n";
        return EX_IOERR;
    }
    return 0;
}

int stats(const verb_args& a, const base::config& cfg)
{
    auto qs = open_existing(cfg);
    std::vector<store::stats_row> rows;
    if (qs)
        rows = qs->stats();
    std::map<std::string, std::pair<std::int64_t, std::int64_t>> by_state;
    for (auto st : {entry_state::held, entry_state::releasing, entry_state::released, entry_state::deleted})
        by_state[std::string(store::to_string(st))] = {0, 0};
    std::int64_t entries = 0, bytes = 0;
    for (const auto& r : rows) {
        auto& s = by_state[std::string(store::to_string(r.state))];
        s.first += r.count;
        s.second += r.bytes;
        entries += r.count;
        bytes += r.bytes;
    }
    if (a.has("--json")) {
        proto::json_writer w;
        w.begin_object().key("entries").value(entries).key("bytes").value(bytes);
        w.key("by_state").begin_object();
        for (const auto& [name, v] : by_state)
            w.key(name).begin_object().key("entries").value(v.first).key("bytes").value(v.second).end_object();
        w.end_object();
        w.key("by_reason").begin_array();
        for (const auto& r : rows)
            w.begin_object()
                .key("state").value(store::to_string(r.state))
                .key("reason").value(r.reason)
                .key("entries").value(r.count)
                .key("bytes").value(r.bytes)
                .end_object();
        w.end_array().end_object();
        std::cout << w.str() << "\n";
        return 0;
    }
    std::ostringstream out;
    out << std::left << std::setw(10) << "STATE" << std::setw(24) << "REASON" << std::setw(10) << "ENTRIES"
        << "BYTES\n";
    for (const auto& r : rows)
        out << std::setw(10) << store::to_string(r.state) << std::setw(24) << proto::sanitize(r.reason, 23)
            << std::setw(10) << r.count << r.bytes << "\n";
    out << "total: " << entries << " entries, " << bytes << " bytes of messages (held " << by_state["held"].first
        << ", released " << by_state["released"].first << ", deleted " << by_state["deleted"].first << ")\n";
    std::cout << out.str();
    return 0;
}

// ---- release, delete, purge ---------------------------------------------

std::vector<std::int64_t> ids_of(const verb_args& a)
{
    if (a.words().empty())
        throw usage_error("give one or more entry ids");
    std::vector<std::int64_t> ids;
    for (const auto& w : a.words()) {
        auto id = parse_id(w);
        if (!id)
            throw usage_error("'" + proto::sanitize(w) + "' is not an entry id");
        ids.push_back(*id);
    }
    return ids;
}

int release(const verb_args& a, const base::config& cfg)
{
    bool matching = a.has("--all-matching");
    bool filters = a.opt("--reason") || a.opt("--domain") || a.opt("--since");
    if (matching && !a.words().empty())
        throw usage_error("give entry ids or --all-matching, not both");
    if (!matching && filters)
        throw usage_error("--reason, --domain and --since select entries only with --all-matching");
    auto qs = open_existing(cfg);
    std::vector<std::int64_t> ids;
    if (matching) {
        if (qs)
            for (const auto& s : qs->list(filter_from(a, entry_state::held)))
                ids.push_back(s.id);
    } else {
        ids = ids_of(a);
    }
    int rc = 0;
    for (auto id : ids) {
        if (!qs) {
            rc = unknown_id(id);
            continue;
        }
        auto r = release_entry(*qs, id, cfg, "", a.has("--dry-run"));
        if (!r.note.empty())
            std::cerr << "mxwarden: " << r.note << "\n";
        if (r.what == release_outcome::kind::released || r.what == release_outcome::kind::would)
            std::cout << r.message << "\n";
        else
            std::cerr << "mxwarden: " << r.message << "\n";
        if (r.exit_status != 0 && !(r.unless_earlier && rc != 0))
            rc = r.exit_status;
    }
    if (matching && ids.empty())
        std::cout << "(no held entries match)\n";
    return rc;
}

// Who deletes, for the entry's history: the login behind the real uid (an
// admin under sudo is named by SUDO_USER, which only root can have set
// for us), else the uid as a number.
std::string unix_user()
{
    const uid_t uid = ::getuid();
    if (uid == 0)
        if (const char* s = std::getenv("SUDO_USER"); s && *s)
            return proto::sanitize(s, 64);
    std::vector<char> buf(4096);
    struct passwd pw {};
    struct passwd* found = nullptr;
    if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found)
        return proto::sanitize(found->pw_name, 64);
    return "uid " + std::to_string(uid);
}

int remove(const verb_args& a, const base::config& cfg)
{
    auto ids = ids_of(a);
    auto qs = open_existing(cfg);
    const auto by = unix_user();
    int rc = 0;
    for (auto id : ids) {
        if (qs && qs->remove(id, now(), by)) {
            std::cout << "deleted entry " << id << "\n";
        } else if (qs && qs->find(id)) {
            std::cerr << "mxwarden: entry " << id << " was already deleted\n";
        } else {
            rc = unknown_id(id);
        }
    }
    return rc;
}

int purge(const verb_args& a, const base::config& cfg)
{
    auto age = std::chrono::duration_cast<std::chrono::seconds>(cfg.quarantine.retention).count();
    if (auto* o = a.opt("--older-than")) {
        auto d = base::parse_duration(*o);
        if (!d)
            throw usage_error("--older-than: '" + proto::sanitize(*o) + "' is not a duration (30d, 12h)");
        age = std::chrono::duration_cast<std::chrono::seconds>(*d).count();
    }
    auto cutoff = now() - age;
    auto qs = open_existing(cfg);
    std::size_t n = qs ? qs->purge(cutoff, a.has("--include-held")) : 0;
    std::cout << "purged " << n << " entr" << (n == 1 ? "y" : "ies") << " ("
              << (a.has("--include-held") ? "any state" : "released or deleted") << ", last changed before "
              << format_utc(cutoff) << " UTC)\n";
    return 0;
}

int dispatch(const verb_args& a, const base::config& cfg)
{
    if (a.verb == "ingest") return ingest(a, cfg);
    if (a.verb == "list") return list(a, cfg);
    if (a.verb == "show") return show(a, cfg);
    if (a.verb == "cat") return cat(a, cfg);
    if (a.verb == "stats") return stats(a, cfg);
    if (a.verb == "release") return release(a, cfg);
    if (a.verb == "delete") return remove(a, cfg);
    return purge(a, cfg);
}

}  // namespace

int run_quarantine(std::span<const std::string_view> global, std::span<const std::string_view> args)
{
    // Help first: "--help" where a verb or an option is expected is a
    // question, not a usage error. Never for ingest: there every word comes
    // from the MTA, and a sender or recipient spelled "--help" must not
    // turn into exit 0 (delivered, i.e. lost).
    bool ingest_call = !args.empty() && args.front() == "ingest";
    auto options_end = std::find(args.begin(), args.end(), "--");
    if (!ingest_call && std::find(args.begin(), options_end, "--help") != options_end) {
        std::cout << usage;
        return 0;
    }
    auto a = parse_verb(args);
    bool is_ingest = a.verb == "ingest";
    if (!a.errors.empty()) {
        if (is_ingest)
            return ingest_misconfigured(a.errors.front());
        for (const auto& e : a.errors)
            std::cerr << "mxwarden quarantine" << (a.verb.empty() ? "" : " " + a.verb) << ": " << e << "\n";
        std::cerr << usage;
        return EX_USAGE;
    }

    // Global options before "quarantine" and config overrides after the
    // verb go through the same parser as every other mxwarden command.
    auto vc = load_verb_config(global, a.args.overrides);
    const auto& cfg = vc.cfg;
    const auto& errors = vc.errors;
    if (!cfg) {
        if (is_ingest)
            return ingest_misconfigured("configuration: " + (errors.empty() ? std::string("invalid") : errors.front()));
        for (const auto& e : errors)
            std::cerr << "mxwarden: " << e << "\n";
        return EX_CONFIG;
    }

    try {
        return dispatch(a, *cfg);
    } catch (const store::quarantine_full& e) {
        // pipe(8) takes the 4.x.x text as the delivery status: the mail
        // stays queued (and says why in the queue listing) until there is
        // room again. Only ingest adds to the store.
        std::cout << "4.3.0 " << e.what() << std::endl;
        return ingest_retry;
    } catch (const usage_error& e) {
        std::cerr << "mxwarden quarantine " << a.verb << ": " << e.what() << "\n" << usage;
        return EX_USAGE;
    } catch (const store::schema_error& e) {
        if (is_ingest)
            return ingest_fail(e.what());
        std::cerr << "mxwarden: quarantine store " << store::describe(store_of(*cfg)) << ": " << e.what() << "\n";
        return EX_CONFIG;
    } catch (const store::store_error& e) {
        if (is_ingest)
            return ingest_fail(e.what());
        std::cerr << "mxwarden: quarantine store " << store::describe(store_of(*cfg)) << ": " << e.what() << "\n";
        return e.transient() ? EX_TEMPFAIL : EX_SOFTWARE;
    } catch (const std::exception& e) {
        // Whatever went wrong, mail handed to ingest stays with the MTA.
        if (is_ingest)
            return ingest_fail(e.what());
        std::cerr << "mxwarden: " << e.what() << "\n";
        return EX_SOFTWARE;
    } catch (...) {
        if (is_ingest)
            return ingest_fail("unexpected error");
        std::cerr << "mxwarden: unexpected error\n";
        return EX_SOFTWARE;
    }
}

}  // namespace mxw::cli
