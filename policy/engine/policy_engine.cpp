#include "engine/policy_engine.hpp"

#include "proto/sanitize.hpp"

#include <algorithm>

namespace mxw::engine {
namespace {

struct reply_codes {
    std::string_view reject;
    std::string_view defer;
};

// Enhanced codes follow what Postfix's own checks use for the same finding
// (reject_unknown_sender_domain: x.1.8, null MX: 5.7.27, FCrDNS: x.7.25 of
// RFC 7372) and 4.4.3 for DNS trouble (RFC 3463: directory server failure).
reply_codes codes_for(outcome o) noexcept
{
    switch (o) {
    case outcome::null_mx: return {"550 5.7.27", "450 4.7.27"};
    case outcome::no_domain: return {"550 5.1.8", "450 4.1.8"};
    case outcome::sender_tempfail: return {"550 5.4.3", "451 4.4.3"};
    case outcome::no_ptr:
    case outcome::not_confirmed: return {"550 5.7.25", "450 4.7.25"};
    case outcome::client_tempfail: return {"550 5.7.25", "451 4.4.3"};
    case outcome::ok:
    case outcome::skipped: break;
    }
    return {"550 5.7.1", "450 4.7.1"};
}

enum class stage { connect, transaction, end_of_message, none };

stage classify(std::string_view state) noexcept
{
    if (state == "CONNECT" || state == "EHLO" || state == "HELO")
        return stage::connect;
    if (state == "MAIL" || state == "RCPT" || state == "DATA" || state.empty())
        return stage::transaction;
    if (state == "END-OF-MESSAGE")
        return stage::end_of_message;
    return stage::none;  // VRFY, ETRN: nothing to judge
}

}  // namespace

action_table default_actions() noexcept
{
    action_table t{};
    t[static_cast<std::size_t>(outcome::null_mx)] = action::reject;
    t[static_cast<std::size_t>(outcome::no_domain)] = action::defer;
    t[static_cast<std::size_t>(outcome::sender_tempfail)] = action::defer;
    t[static_cast<std::size_t>(outcome::no_ptr)] = action::tag;
    t[static_cast<std::size_t>(outcome::not_confirmed)] = action::tag;
    t[static_cast<std::size_t>(outcome::client_tempfail)] = action::tag;
    return t;
}

policy_engine::policy_engine(policy_config cfg, dns::resolver& r, clock_fn now)
    : cfg_(std::move(cfg)), resolver_(r), now_(std::move(now)), sender_cache_(cfg_.cache_max_entries),
      client_cache_(cfg_.cache_max_entries)
{
}

void policy_engine::remember(ttl_cache<cached>& cache, const std::string& key, const finding& f)
{
    auto ttl = is_tempfail(f.result) ? cfg_.tempfail_ttl : std::min(f.ttl, cfg_.cache_max_ttl);
    auto now = now_();
    cache.put(key, cached{f.result, f.evidence}, now + ttl, now);
}

asio::awaitable<finding> policy_engine::sender_finding(const std::string& domain, dns::clock::time_point deadline,
                                                       bool use_cache, bool& cache_hit)
{
    if (use_cache) {
        if (const cached* c = sender_cache_.find(domain, now_())) {
            cache_hit = true;
            co_return finding{check_kind::sender, c->result, domain, c->evidence, {}};
        }
    }
    cache_hit = false;
    finding f = co_await check_sender_domain(resolver_, domain, deadline);
    // A result cut short by the request deadline says nothing about the
    // domain; keeping it would replay our own impatience.
    if (now_() < deadline)
        remember(sender_cache_, domain, f);
    co_return f;
}

asio::awaitable<finding> policy_engine::client_finding(const client_info& c, dns::clock::time_point deadline,
                                                       bool use_cache, bool& cache_hit)
{
    // Postfix's own verdict needs no DNS: as good as a cache hit.
    cache_hit = settled_by_postfix(c);
    if (cache_hit)
        co_return co_await check_client_ptr(resolver_, c, deadline);
    const std::string key = client_key(c);
    if (use_cache) {
        if (const cached* hit = client_cache_.find(key, now_())) {
            cache_hit = true;
            co_return finding{check_kind::client, hit->result, c.address, hit->evidence, {}};
        }
    }
    finding f = co_await check_client_ptr(resolver_, c, deadline);
    if (now_() < deadline && f.result != outcome::skipped)
        remember(client_cache_, key, f);
    co_return f;
}

bool policy_engine::decide_cached(const proto::policy_request& req, session_state& st, decision& d)
{
    if (req.instance != st.instance || req.instance.empty()) {
        st.instance = req.instance;
        st.tagged = false;
    }
    stage s = classify(req.protocol_state);
    if (s == stage::none) {
        d.reply = "DUNNO";
        return true;
    }
    auto now = now_();
    if (cfg_.client_check) {
        const client_info client{req.client_address, req.client_name, req.reverse_client_name};
        if (settled_by_postfix(client)) {
            d.findings.push_back(verified_by_postfix(client));
        } else if (const cached* hit = client_cache_.find(client_key(client), now)) {
            d.findings.push_back(finding{check_kind::client, hit->result, client.address, hit->evidence, {}});
        } else {
            return false;
        }
    }
    if (cfg_.sender_check && s != stage::connect) {
        if (auto domain = sender_domain(req.sender)) {
            const cached* hit = sender_cache_.find(*domain, now);
            if (!hit)
                return false;
            d.findings.push_back(finding{check_kind::sender, hit->result, std::move(*domain), hit->evidence, {}});
        }
    }
    d.from_cache = !d.findings.empty();
    conclude(d, req.protocol_state, &st);
    return true;
}

asio::awaitable<decision> policy_engine::decide(const proto::policy_request& req, session_state& st)
{
    decision d;
    if (req.instance != st.instance || req.instance.empty()) {
        st.instance = req.instance;
        st.tagged = false;
    }
    stage s = classify(req.protocol_state);
    if (s == stage::none) {
        d.reply = "DUNNO";
        co_return d;
    }
    auto deadline = now_() + cfg_.deadline;
    bool all_cached = true;
    if (cfg_.client_check) {
        bool hit = false;
        const client_info client{req.client_address, req.client_name, req.reverse_client_name};
        finding f = co_await client_finding(client, deadline, true, hit);
        d.findings.push_back(std::move(f));
        all_cached = all_cached && hit;
    }
    if (cfg_.sender_check && s != stage::connect) {
        if (const auto domain = sender_domain(req.sender)) {
            bool hit = false;
            finding f = co_await sender_finding(*domain, deadline, true, hit);
            d.findings.push_back(std::move(f));
            all_cached = all_cached && hit;
        }
    }
    d.from_cache = all_cached && !d.findings.empty();
    d.deadline_exceeded = now_() >= deadline;
    conclude(d, req.protocol_state, &st);
    co_return d;
}

asio::awaitable<decision> policy_engine::explain_sender(const std::string& address)
{
    decision d;
    auto deadline = now_() + cfg_.deadline;
    bool hit = false;
    if (const auto domain = sender_domain(address)) {
        finding f = co_await sender_finding(*domain, deadline, false, hit);
        d.findings.push_back(std::move(f));
    } else {
        d.findings.push_back(finding{check_kind::sender, outcome::skipped, address, "no domain to check", {}});
    }
    d.deadline_exceeded = now_() >= deadline;
    conclude(d, "RCPT", nullptr);
    co_return d;
}

asio::awaitable<decision> policy_engine::explain_client(const std::string& address)
{
    decision d;
    auto deadline = now_() + cfg_.deadline;
    bool hit = false;
    const client_info client{address, "", ""};
    finding f = co_await client_finding(client, deadline, false, hit);
    d.findings.push_back(std::move(f));
    d.deadline_exceeded = now_() >= deadline;
    conclude(d, "RCPT", nullptr);
    co_return d;
}

void policy_engine::conclude(decision& d, std::string_view state, session_state* st) const
{
    std::string tags;
    for (std::size_t i = 0; i < d.findings.size(); ++i) {
        const finding& f = d.findings[i];
        action a = cfg_.actions[static_cast<std::size_t>(f.result)];
        if (!is_problem(f.result))
            a = action::ignore;
        else if (d.deadline_exceeded && is_tempfail(f.result))
            a = cfg_.deadline_action;  // the configured fail-open answer
        if (a == action::tag) {
            tags.append(tags.empty() ? "" : "; ").append(to_string(f.check)).append("=");
            tags.append(to_string(f.result)).append(" ").append(proto::sanitize(f.subject));
        }
        if (d.decisive < 0 || a > d.act) {
            d.act = a;
            d.decisive = static_cast<int>(i);
        }
    }
    if (d.act == action::ignore)
        d.decisive = -1;
    // Before MAIL FROM Postfix skips PREPEND and FILTER with a warning
    // (smtpd_check.c, not_in_client_helo): the client check runs again at
    // MAIL/RCPT, from the cache, and acts there.
    bool before_mail = classify(state) == stage::connect;
    if (before_mail && (d.act == action::tag || d.act == action::quarantine)) {
        d.reply = "DUNNO";
        return;
    }
    switch (d.act) {
    case action::reject:
    case action::defer: {
        const finding& f = d.findings[static_cast<std::size_t>(d.decisive)];
        auto codes = codes_for(f.result);
        d.reply = std::string(d.act == action::reject ? codes.reject : codes.defer) + " " + explain(f);
        break;
    }
    case action::quarantine: {
        const finding& f = d.findings[static_cast<std::size_t>(d.decisive)];
        d.reply = "FILTER " + cfg_.quarantine_transport + ":" + std::string(to_string(f.check)) + "-" +
                  std::string(to_string(f.result));
        break;
    }
    case action::tag:
        // Postfix refuses PREPEND at END-OF-MESSAGE, and one header per
        // message is enough even when every recipient is checked.
        if (state == "END-OF-MESSAGE" || (st && st->tagged)) {
            d.reply = "DUNNO";
        } else {
            d.reply = "PREPEND " + cfg_.tag_header + ": " + tags;
            if (st && !st->instance.empty())
                st->tagged = true;
        }
        break;
    case action::ignore: d.reply = "DUNNO"; break;
    }
}

}  // namespace mxw::engine
