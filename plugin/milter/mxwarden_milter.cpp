// mxwarden-milter: the libmilter process for Sendmail (and Postfix where a
// milter is wanted). Each callback becomes a policy request to mxwardend
// over the Postfix policy protocol, and the answer becomes a milter reply;
// policy logic stays in the daemon. On a quarantine verdict the whole
// message is stored in the quarantine and then discarded; a failed store
// write answers tempfail, so the message stays with the sender.
//
// libmilter owns the threads: Debian builds it with a worker pool, so one
// connection's callbacks may run on different threads, one after another.
// All per-connection state therefore lives behind smfi_setpriv; the only
// process-wide values are the shared state (settings behind a lock, since
// SIGHUP replaces them; the logger) and a counter for log lines.
//
// Signals: smfi_main's own signal thread stops the milter on SIGHUP. The
// main thread therefore leaves smfi_main to a thread of its own and waits
// for SIGHUP, SIGTERM and SIGINT itself: SIGHUP re-reads the configuration,
// the others stop the milter.
#include "base/logging.hpp"
#include "milter/milter_options.hpp"
#include "milter/milter_request.hpp"
#include "milter/milter_settings.hpp"
#include "milter/policy_client.hpp"
#include "proto/sanitize.hpp"
#include "store/quarantine_store.hpp"

#include <libmilter/mfapi.h>

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <mutex>
#include <netinet/in.h>
#include <optional>
#include <pthread.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

#ifndef MXWARDEN_VERSION
#define MXWARDEN_VERSION "unknown"
#endif

namespace mxw::milter {
namespace {

// What every libmilter thread shares: the settings, which a reload swaps
// whole, and the logger, whose stderr buffer is not thread-safe.
class shared_state {
public:
    explicit shared_state(std::shared_ptr<const milter_options> o)
        : settings_(std::move(o)), log_(settings_->log_syslog, "mxwarden-milter", settings_->log_level)
    {
    }

    [[nodiscard]] std::shared_ptr<const milter_options> settings() const
    {
        std::lock_guard lock(mutex_);
        return settings_;
    }
    void replace(std::shared_ptr<const milter_options> o)
    {
        {
            std::lock_guard log_lock(log_mutex_);
            log_.set_threshold(o->log_level);
        }
        std::lock_guard lock(mutex_);
        settings_ = std::move(o);
    }
    void log(base::logger::level l, std::string_view line)
    {
        std::lock_guard lock(log_mutex_);
        log_.write(l, line);
    }

private:
    mutable std::mutex mutex_;
    std::shared_ptr<const milter_options> settings_;
    std::mutex log_mutex_;
    base::logger log_;  // no scheduler: every line is written at once
};

// Set once in main() before smfi_main starts any thread: libmilter's
// callbacks carry no user pointer.
shared_state* shared = nullptr;
// Numbers connections in the log only.
std::atomic<unsigned long> connection_counter{0};

void log_line(std::string_view line) { shared->log(base::logger::level::info, line); }

struct connection {
    connection() : id(++connection_counter) { refresh(); }

    /// Picks up settings a reload replaced: the next request goes to the
    /// policy endpoint, with the timeout, now configured.
    void refresh()
    {
        auto now = shared->settings();
        if (now == opts)
            return;
        if (!opts || !(now->policy == opts->policy) || now->timeout != opts->timeout)
            client.emplace(now->policy, now->timeout);
        opts = std::move(now);
    }

    std::shared_ptr<const milter_options> opts;  // the settings this connection's requests use
    std::optional<policy_client> client;
    unsigned long id;
    proto::policy_request base;   // client attributes and HELO name: the whole connection
    std::string daemon_name;
    bool raw_header_values = false;  // SMFIP_HDR_LEADSPC negotiated
    bool may_add_headers = false;    // SMFIF_ADDHDRS negotiated
    unsigned long messages = 0;

    // The current message; reset at MAIL FROM, end of message and abort.
    std::string queue_id;
    std::string sender;
    std::vector<std::string> recipients;
    std::vector<std::pair<std::string, std::string>> tags;
    std::optional<std::string> quarantine_reason;
    std::optional<message_capture> capture;

    void reset_message()
    {
        queue_id.clear();
        sender.clear();
        recipients.clear();
        tags.clear();
        quarantine_reason.reset();
        capture.reset();
    }
};

connection* conn_of(SMFICTX* ctx) { return static_cast<connection*>(smfi_getpriv(ctx)); }

// The connection state, created at the first callback that needs it
// (negotiate, or connect when an MTA skips negotiation).
connection& ensure_conn(SMFICTX* ctx)
{
    if (auto* c = conn_of(ctx))
        return *c;
    auto owned = std::make_unique<connection>();
    if (smfi_setpriv(ctx, owned.get()) != MI_SUCCESS)
        throw std::runtime_error("smfi_setpriv failed");
    return *owned.release();
}

std::string macro(SMFICTX* ctx, const char* name)
{
    const char* v = smfi_getsymval(ctx, const_cast<char*>(name));
    return v ? std::string(v) : std::string();
}

void refresh_queue_id(SMFICTX* ctx, connection& c)
{
    // Postfix knows the queue ID only once the queue file exists (after the
    // first accepted RCPT); keep the best one seen.
    if (std::string q = macro(ctx, "i"); !q.empty())
        c.queue_id = attribute_value(q);
}

std::string sockaddr_text(const sockaddr* sa)
{
    char buf[INET6_ADDRSTRLEN] = {};
    if (sa && sa->sa_family == AF_INET)
        ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
    else if (sa && sa->sa_family == AF_INET6)
        ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof buf);
    return buf;
}

std::string_view kind_name(milter_verdict::kind k)
{
    switch (k) {
    case milter_verdict::kind::proceed: return "continue";
    case milter_verdict::kind::reject: return "reject";
    case milter_verdict::kind::tempfail: return "tempfail";
    case milter_verdict::kind::discard: return "discard";
    case milter_verdict::kind::tag: return "tag";
    case milter_verdict::kind::quarantine: return "quarantine";
    }
    return "?";
}

void append_kv(std::string& line, std::string_view key, std::string_view value)
{
    line.append(" ").append(key).append("=");
    proto::log_value_into(line, value);
}

// Asks the daemon about `s`; the answer, or the on-error verdict when it
// cannot be asked. One log line either way.
milter_verdict ask(connection& c, stage s, std::string_view recipient)
{
    c.refresh();
    const milter_options& o = *c.opts;
    proto::policy_request req = c.base;
    req.protocol_state = std::string(protocol_state(s));
    req.queue_id = c.queue_id;
    if (s != stage::connect) {
        req.sender = c.sender;
        // Postfix's rule: the recipient at RCPT, and at the end of the
        // message only when there is exactly one.
        if (s == stage::rcpt)
            req.recipient = std::string(recipient);
        else if (s == stage::end_of_message && c.recipients.size() == 1)
            req.recipient = c.recipients.front();
        // The daemon tags a message once per instance.
        req.instance = std::to_string(c.id) + "." + std::to_string(c.messages);
    }
    policy_client::answer a = c.client->ask(req);
    milter_verdict v = a.ok ? map_action(proto::parse_policy_action(a.action), o.quarantine_transport)
                            : on_error_verdict(o.on_error_tempfail);

    std::string line = a.ok ? "decision" : "policy-error";
    append_kv(line, "conn", std::to_string(c.id));
    append_kv(line, "stage", req.protocol_state);
    append_kv(line, "queue_id", req.queue_id);
    append_kv(line, "client", req.client_address);
    append_kv(line, "client_name", req.client_name);
    if (s != stage::connect)
        append_kv(line, "sender", req.sender);
    if (!req.recipient.empty())
        append_kv(line, "recipient", req.recipient);
    if (a.ok) {
        append_kv(line, "action", a.action);
    } else {
        append_kv(line, "error", a.error);
        append_kv(line, "on_error", o.on_error_tempfail ? "tempfail" : "accept");
    }
    append_kv(line, "verdict", kind_name(v.what));
    if (!v.note.empty())
        append_kv(line, "note", v.note);
    log_line(line);
    return v;
}

sfsistat reply(SMFICTX* ctx, connection& c, const milter_verdict& v, sfsistat status)
{
    if (smfi_setreply(ctx, const_cast<char*>(v.rcode.c_str()), v.xcode.empty() ? nullptr : const_cast<char*>(v.xcode.c_str()),
                      v.text.empty() ? nullptr : const_cast<char*>(v.text.c_str())) != MI_SUCCESS) {
        std::string line = "setreply-failed";
        append_kv(line, "conn", std::to_string(c.id));
        append_kv(line, "rcode", v.rcode);
        log_line(line);
    }
    return status;
}

// What a callback returns for a verdict. Tags and the quarantine only take
// effect at the end of the message, the one place where headers may be
// added and the whole message is known.
sfsistat act(SMFICTX* ctx, connection& c, const milter_verdict& v)
{
    switch (v.what) {
    case milter_verdict::kind::proceed: return SMFIS_CONTINUE;
    case milter_verdict::kind::reject: return reply(ctx, c, v, SMFIS_REJECT);
    case milter_verdict::kind::tempfail: return reply(ctx, c, v, SMFIS_TEMPFAIL);
    case milter_verdict::kind::discard: return SMFIS_DISCARD;
    case milter_verdict::kind::tag: {
        std::pair<std::string, std::string> h{v.header_name, v.header_value};
        if (std::find(c.tags.begin(), c.tags.end(), h) == c.tags.end())
            c.tags.push_back(std::move(h));
        return SMFIS_CONTINUE;
    }
    case milter_verdict::kind::quarantine:
        if (!c.quarantine_reason)
            c.quarantine_reason = v.reason;
        return SMFIS_CONTINUE;
    }
    return SMFIS_CONTINUE;
}

milter_verdict temporary(std::string text)
{
    milter_verdict v;
    v.what = milter_verdict::kind::tempfail;
    v.rcode = "451";
    v.xcode = "4.3.0";
    v.text = escape_reply_text(text);
    return v;
}

void log_quarantine(const connection& c, std::string_view event, std::string_view key, std::string_view value)
{
    std::string line(event);
    append_kv(line, "conn", std::to_string(c.id));
    append_kv(line, "queue_id", c.queue_id);
    append_kv(line, "reason", c.quarantine_reason.value_or(""));
    append_kv(line, "sender", c.sender);
    append_kv(line, "recipients", std::to_string(c.recipients.size()));
    append_kv(line, key, value);
    log_line(line);
}

// The quarantine verdict at the end of the message: stored, then discarded;
// anything that keeps it from the store leaves the message with the sender.
sfsistat quarantine(SMFICTX* ctx, connection& c)
{
    const milter_options& o = *c.opts;
    if (o.quarantine_db.empty()) {
        log_quarantine(c, "quarantine-failed", "error", "no --quarantine-db configured");
        return reply(ctx, c, temporary("quarantine not available, try again later"), SMFIS_TEMPFAIL);
    }
    if (!c.capture) {
        // The verdict came only at the end of the message, after the body
        // went by uncaptured. The retry gets the verdict at RCPT.
        log_quarantine(c, "quarantine-failed", "error", "verdict arrived after the message was received");
        return reply(ctx, c, temporary("message cannot be quarantined now, try again later"), SMFIS_TEMPFAIL);
    }
    if (c.capture->overflowed()) {
        // As the quarantine's ingest does: a permanent answer, and the
        // sender gets the message back with the reason.
        log_quarantine(c, "quarantine-failed", "error",
                       "message of " + std::to_string(c.capture->total_bytes()) + " bytes is over the limit");
        milter_verdict v;
        v.rcode = "552";
        v.xcode = "5.3.4";
        v.text = "message too big for the quarantine";
        return reply(ctx, c, v, SMFIS_REJECT);
    }
    try {
        store::new_entry e;
        e.reason = *c.quarantine_reason;
        e.reason_text = "quarantined at SMTP time by mxwarden-milter";
        e.queue_id = c.queue_id;
        e.sender = c.sender;
        e.recipients = c.recipients;
        e.message = c.capture->data();
        store::quarantine_store qs(o.quarantine_db);
        auto r = qs.ingest(e, static_cast<std::int64_t>(std::time(nullptr)));
        log_quarantine(c, "quarantined", "entry", std::to_string(r.id));
        return SMFIS_DISCARD;
    } catch (const std::exception& ex) {
        log_quarantine(c, "quarantine-failed", "error", ex.what());
        return reply(ctx, c, temporary("quarantine unavailable, try again later"), SMFIS_TEMPFAIL);
    }
}

// libmilter calls these through C function pointers: no exception may
// leave them. A broken invariant ends the process (G8), anything else is a
// tempfail for this message.
template <typename F>
sfsistat guarded(SMFICTX* ctx, const char* where, F&& f) noexcept
{
    try {
        return f();
    } catch (const std::exception& e) {
        std::string line = "callback-error";
        append_kv(line, "callback", where);
        append_kv(line, "error", e.what());
        log_line(line);
        (void)ctx;
        return SMFIS_TEMPFAIL;
    }
}

sfsistat on_negotiate(SMFICTX* ctx, unsigned long f0, unsigned long f1, unsigned long, unsigned long,
                      unsigned long* pf0, unsigned long* pf1, unsigned long* pf2, unsigned long* pf3)
{
    return guarded(ctx, "negotiate", [&] {
        connection& c = ensure_conn(ctx);
        *pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_SETSYMLIST);
        // Header values exactly as received, so the quarantined copy is the
        // message the MTA accepted.
        *pf1 = f1 & SMFIP_HDR_LEADSPC;
        *pf2 = 0;
        *pf3 = 0;
        c.raw_header_values = (*pf1 & SMFIP_HDR_LEADSPC) != 0;
        c.may_add_headers = (*pf0 & SMFIF_ADDHDRS) != 0;
        // The client macros are in neither MTA's default lists; without
        // SETSYMLIST the admin must configure them (confMILTER_MACROS_*,
        // milter_*_macros).
        if (*pf0 & SMFIF_SETSYMLIST) {
            smfi_setsymlist(ctx, SMFIM_CONNECT,
                            const_cast<char*>("{client_addr} {client_name} {client_ptr} {client_resolve} {daemon_name}"));
            smfi_setsymlist(ctx, SMFIM_ENVFROM, const_cast<char*>("i {mail_addr}"));
            smfi_setsymlist(ctx, SMFIM_ENVRCPT, const_cast<char*>("i {rcpt_addr}"));
            smfi_setsymlist(ctx, SMFIM_DATA, const_cast<char*>("i"));
            smfi_setsymlist(ctx, SMFIM_EOM, const_cast<char*>("i"));
        }
        return SMFIS_CONTINUE;
    });
}

sfsistat on_connect(SMFICTX* ctx, char* hostname, _SOCK_ADDR* addr)
{
    return guarded(ctx, "connect", [&] {
        connection& c = ensure_conn(ctx);
        connect_macros m;
        m.client_addr = macro(ctx, "{client_addr}");
        m.client_name = macro(ctx, "{client_name}");
        m.client_ptr = macro(ctx, "{client_ptr}");
        m.client_resolve = macro(ctx, "{client_resolve}");
        m.hostname_arg = hostname ? hostname : "";
        m.sockaddr_text = sockaddr_text(addr);
        apply_client(c.base, m);
        c.daemon_name = attribute_value(macro(ctx, "{daemon_name}"));
        // smfi_setreply is not allowed here, so a verdict would lose its
        // text. The daemon sees the client early (its PTR lookups start
        // now and are cached) and the verdict is acted on at MAIL FROM,
        // where the same client check runs again, as Postfix's
        // smtpd_delay_reject does.
        (void)ask(c, stage::connect, {});
        return SMFIS_CONTINUE;
    });
}

sfsistat on_helo(SMFICTX* ctx, char* helo)
{
    return guarded(ctx, "helo", [&] {
        ensure_conn(ctx).base.helo_name = attribute_value(helo ? helo : "");
        return SMFIS_CONTINUE;
    });
}

sfsistat on_envfrom(SMFICTX* ctx, char** argv)
{
    return guarded(ctx, "envfrom", [&] {
        connection& c = ensure_conn(ctx);
        c.reset_message();
        ++c.messages;
        c.sender = argv && argv[0] ? envelope_address(argv[0]) : envelope_address(macro(ctx, "{mail_addr}"));
        refresh_queue_id(ctx, c);
        return act(ctx, c, ask(c, stage::mail, {}));
    });
}

sfsistat on_envrcpt(SMFICTX* ctx, char** argv)
{
    return guarded(ctx, "envrcpt", [&] {
        connection& c = ensure_conn(ctx);
        std::string rcpt = argv && argv[0] ? envelope_address(argv[0]) : envelope_address(macro(ctx, "{rcpt_addr}"));
        refresh_queue_id(ctx, c);
        sfsistat r = act(ctx, c, ask(c, stage::rcpt, rcpt));
        if (r == SMFIS_CONTINUE)
            c.recipients.push_back(std::move(rcpt));
        return r;
    });
}

sfsistat on_data(SMFICTX* ctx)
{
    return guarded(ctx, "data", [&] {
        connection& c = ensure_conn(ctx);
        refresh_queue_id(ctx, c);
        // Only a message already marked for the quarantine is kept in
        // memory; the others pass by.
        if (c.quarantine_reason)
            c.capture.emplace(c.opts->max_message_bytes);
        return SMFIS_CONTINUE;
    });
}

sfsistat on_header(SMFICTX* ctx, char* name, char* value)
{
    return guarded(ctx, "header", [&] {
        connection& c = ensure_conn(ctx);
        if (c.capture)
            c.capture->add_header(name ? name : "", value ? value : "", c.raw_header_values);
        return SMFIS_CONTINUE;
    });
}

sfsistat on_eoh(SMFICTX* ctx)
{
    return guarded(ctx, "eoh", [&] {
        connection& c = ensure_conn(ctx);
        if (c.capture)
            c.capture->end_of_headers();
        return SMFIS_CONTINUE;
    });
}

sfsistat on_body(SMFICTX* ctx, unsigned char* chunk, size_t len)
{
    return guarded(ctx, "body", [&] {
        connection& c = ensure_conn(ctx);
        if (!c.capture)
            return SMFIS_SKIP;  // no more body chunks needed for this message
        c.capture->add_body(std::string_view(reinterpret_cast<const char*>(chunk), len));
        return SMFIS_CONTINUE;
    });
}

sfsistat on_eom(SMFICTX* ctx)
{
    return guarded(ctx, "eom", [&] {
        connection& c = ensure_conn(ctx);
        refresh_queue_id(ctx, c);
        sfsistat r = act(ctx, c, ask(c, stage::end_of_message, {}));
        if (r == SMFIS_CONTINUE && c.quarantine_reason) {
            r = quarantine(ctx, c);
        } else if (r == SMFIS_CONTINUE) {
            for (const auto& [name, value] : c.tags) {
                // With SMFIP_HDR_LEADSPC the MTA takes the value verbatim,
                // so the space after the colon is ours to write.
                std::string v = c.raw_header_values ? " " + value : value;
                if (!c.may_add_headers ||
                    smfi_addheader(ctx, const_cast<char*>(name.c_str()), v.data()) != MI_SUCCESS) {
                    std::string line = "tag-failed";
                    append_kv(line, "conn", std::to_string(c.id));
                    append_kv(line, "queue_id", c.queue_id);
                    append_kv(line, "header", name);
                    log_line(line);
                }
            }
        }
        c.reset_message();
        return r;
    });
}

sfsistat on_abort(SMFICTX* ctx)
{
    if (auto* c = conn_of(ctx))
        c->reset_message();
    return SMFIS_CONTINUE;
}

sfsistat on_close(SMFICTX* ctx)
{
    // May come without a connect before it: the state may not exist.
    std::unique_ptr<connection> c(conn_of(ctx));
    smfi_setpriv(ctx, nullptr);
    return SMFIS_CONTINUE;
}

void log_warnings(const std::vector<std::string>& warnings)
{
    for (const auto& w : warnings) {
        std::string line = "event=config-warning";
        append_kv(line, "warning", w);
        shared->log(base::logger::level::warning, line);
    }
}

// SIGHUP: read the configuration again as at start. A configuration that
// does not validate changes nothing; settings only a restart can apply are
// named and keep their running values.
void reload(const invocation& inv)
{
    auto r = read_settings(inv);
    if (r.errors.empty() && !r.parsed.error.empty())
        r.errors.push_back(r.parsed.error);
    auto running = shared->settings();
    if (r.errors.empty() && r.parsed.options.quarantine_db != running->quarantine_db)
        if (auto e = check_store(r.parsed.options.quarantine_db); !e.empty())
            r.errors.push_back(std::move(e));
    if (!r.errors.empty()) {
        for (const auto& e : r.errors) {
            std::string line = "event=reload-failed";
            append_kv(line, "error", e);
            append_kv(line, "kept", "running settings");
            shared->log(base::logger::level::error, line);
        }
        return;
    }
    reload_plan plan = plan_reload(*running, r.parsed.options);
    for (const auto& key : plan.restart_needed) {
        std::string line = "event=reload-needs-restart";
        append_kv(line, "key", key);
        shared->log(base::logger::level::warning, line);
    }
    log_warnings(r.warnings);
    shared->replace(std::make_shared<const milter_options>(std::move(plan.next)));
    std::string changed;
    for (const auto& key : plan.applied)
        changed.append(changed.empty() ? "" : ",").append(key);
    auto now = shared->settings();
    std::string line = "event=reloaded";
    append_kv(line, "changed", changed.empty() ? "none" : changed);
    append_kv(line, "policy", proto::to_string(now->policy));
    append_kv(line, "on_error", now->on_error_tempfail ? "tempfail" : "accept");
    append_kv(line, "timeout_ms", std::to_string(now->timeout.count()));
    append_kv(line, "quarantine", now->quarantine_db);
    log_line(line);
}

// Reloads run here, off the signal-waiting thread, so that thread is back
// in sigwait at once (see run()).
class reloader {
public:
    explicit reloader(const invocation& inv) : inv_(inv), thread_([this] { loop(); }) {}
    ~reloader()
    {
        {
            std::lock_guard lock(m_);
            stop_ = true;
        }
        cv_.notify_one();
        thread_.join();
    }
    reloader(const reloader&) = delete;
    reloader& operator=(const reloader&) = delete;

    void request()
    {
        {
            std::lock_guard lock(m_);
            pending_ = true;  // HUPs that come during a reload make one more
        }
        cv_.notify_one();
    }

private:
    void loop()
    {
        std::unique_lock lock(m_);
        for (;;) {
            cv_.wait(lock, [this] { return pending_ || stop_; });
            if (stop_)
                return;
            pending_ = false;
            lock.unlock();
            try {
                reload(inv_);
            } catch (const std::exception& e) {
                std::string line = "event=reload-failed";
                append_kv(line, "error", e.what());
                append_kv(line, "kept", "running settings");
                shared->log(base::logger::level::error, line);
            }
            lock.lock();
        }
    }

    const invocation& inv_;
    std::mutex m_;
    std::condition_variable cv_;
    bool pending_ = false;
    bool stop_ = false;
    std::thread thread_;  // last: starts once the members above exist
};

int run(const invocation& inv, const sigset_t& signals)
{
    const milter_options& o = *shared->settings();
    if (auto e = check_store(o.quarantine_db); !e.empty()) {
        shared->log(base::logger::level::error, "event=start-failed error=" + proto::log_value(e));
        return 78;
    }
    smfiDesc desc{};
    desc.xxfi_name = const_cast<char*>("mxwarden");
    desc.xxfi_version = SMFI_VERSION;
    desc.xxfi_flags = SMFIF_ADDHDRS | SMFIF_SETSYMLIST;
    desc.xxfi_connect = on_connect;
    desc.xxfi_helo = on_helo;
    desc.xxfi_envfrom = on_envfrom;
    desc.xxfi_envrcpt = on_envrcpt;
    desc.xxfi_header = on_header;
    desc.xxfi_eoh = on_eoh;
    desc.xxfi_body = on_body;
    desc.xxfi_eom = on_eom;
    desc.xxfi_abort = on_abort;
    desc.xxfi_close = on_close;
    desc.xxfi_data = on_data;
    desc.xxfi_negotiate = on_negotiate;

    if (smfi_setconn(const_cast<char*>(o.listen.c_str())) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS) {
        shared->log(base::logger::level::error,
                    "event=start-failed error=" + proto::log_value("cannot set up libmilter for " + o.listen));
        return 78;
    }
    // Opens the socket now (removing a stale unix socket) so that a bad
    // address fails here, with a message, instead of inside smfi_main.
    if (smfi_opensocket(true) != MI_SUCCESS) {
        shared->log(base::logger::level::error,
                    "event=start-failed error=" + proto::log_value("cannot listen on " + o.listen));
        return 71;
    }
    std::string line = "event=ready";
    append_kv(line, "listen", o.listen);
    append_kv(line, "policy", proto::to_string(o.policy));
    append_kv(line, "on_error", o.on_error_tempfail ? "tempfail" : "accept");
    append_kv(line, "timeout_ms", std::to_string(o.timeout.count()));
    append_kv(line, "quarantine", o.quarantine_db);
    log_line(line);

    reloader reloads(inv);
    std::atomic<int> rc{0};
    pthread_t main_thread = pthread_self();
    std::thread milter([&rc, main_thread] {
        rc = smfi_main() == MI_SUCCESS ? 0 : 1;
        // However smfi_main ended, wake the main thread so it stops waiting
        // for signals; aimed at that thread, this SIGTERM reaches nobody else.
        pthread_kill(main_thread, SIGTERM);
    });
    // libmilter's signal thread waits for the same three signals. Linux
    // hands a signal sent to the process to its main thread first whenever
    // that thread takes it (kernel/signal.c, complete_signal), and this
    // thread is always back in sigwait within microseconds, since reloads
    // run on their own thread. A second SIGHUP inside that gap would still
    // reach libmilter and stop the milter; systemd's ExecReload sends one.
    for (;;) {
        int sig = 0;
        if (sigwait(&signals, &sig) != 0)
            continue;
        if (sig != SIGHUP)
            break;
        reloads.request();
    }
    smfi_stop();
    milter.join();
    log_line("event=stopped");
    return rc;
}

}  // namespace
}  // namespace mxw::milter

int main(int argc, char** argv)
{
    // Block the three signals before any thread exists, so that every
    // thread (libmilter's included) inherits the mask and only sigwait
    // takes them; run() says who waits for them.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);

    auto inv = mxw::milter::parse_invocation(argc, argv);
    auto r = mxw::milter::read_settings(inv);
    if (!r.errors.empty()) {
        for (const auto& e : r.errors)
            std::cerr << "mxwarden-milter: config: " << e << "\n";
        return 78;
    }
    auto& p = r.parsed;
    if (!p.error.empty()) {
        std::cerr << "mxwarden-milter: " << p.error << "\n" << mxw::milter::usage();
        return 64;
    }
    if (p.help) {
        std::cout << mxw::milter::usage();
        return 0;
    }
    if (p.version) {
        std::cout << "mxwarden-milter " MXWARDEN_VERSION "\n";
        return 0;
    }
    mxw::milter::shared_state state(std::make_shared<const mxw::milter::milter_options>(p.options));
    mxw::milter::shared = &state;
    mxw::milter::log_warnings(r.warnings);
    return mxw::milter::run(inv, set);
}
