// engine/policy_engine.hpp: turns a policy request into a decision. Owns the
// per-domain and per-address caches; sees DNS only through dns::resolver and
// time only through the injected clock, so every path is unit-tested with a
// scripted resolver and a manual clock. Loop thread only.
#pragma once
#include "dns/resolver.hpp"
#include "engine/client_check.hpp"
#include "engine/sender_check.hpp"
#include "engine/ttl_cache.hpp"
#include "engine/verdict.hpp"
#include "proto/policy_attrs.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace mxw::engine {

struct policy_config {
    bool sender_check = true;
    bool client_check = true;
    action_table actions{};  ///< indexed by outcome; see default_actions()
    std::chrono::milliseconds deadline{6000};  ///< whole request, all lookups
    action deadline_action = action::ignore;   ///< fail open when it is exceeded
    std::string quarantine_transport = "mxq";
    std::string tag_header = "X-Mxwarden";
    std::size_t cache_max_entries = 200000;
    std::chrono::seconds cache_max_ttl{3600};
    std::chrono::seconds tempfail_ttl{5};  ///< short: a DNS hiccup must not stick
};

/// The defaults: null MX reject, unknown domain and DNS trouble
/// defer, client PTR problems tag.
action_table default_actions() noexcept;

/// Per-connection memory: Postfix keeps one connection per smtpd process and
/// sends `instance` unchanged for every request of one message.
struct session_state {
    std::string instance;
    bool tagged = false;  ///< a PREPEND was already sent for this message
};

struct decision {
    std::vector<finding> findings;
    action act = action::ignore;
    int decisive = -1;         ///< index into findings of the finding that decided, or -1
    bool deadline_exceeded = false;
    bool from_cache = false;   ///< answered without any DNS lookup
    std::string reply;         ///< the text after "action="
};

using clock_fn = std::function<dns::clock::time_point()>;

class policy_engine {
public:
    policy_engine(policy_config cfg, dns::resolver& r, clock_fn now);

    /// The decision for `req`, resolving what the caches do not know.
    asio::awaitable<decision> decide(const proto::policy_request& req, session_state& st);

    /// The hot path: fills `d` and returns true when the answer needs no DNS
    /// at all (every finding cached or settled by Postfix), without the cost
    /// of a coroutine. False means: call decide().
    bool decide_cached(const proto::policy_request& req, session_state& st, decision& d);

    /// For `mxwarden check`: the same checks, bypassing the finding cache so
    /// the evidence is fresh, and the reply Postfix would get at RCPT.
    asio::awaitable<decision> explain_sender(const std::string& address);
    asio::awaitable<decision> explain_client(const std::string& address);

    [[nodiscard]] std::size_t sender_cache_size() const noexcept { return sender_cache_.size(); }
    [[nodiscard]] std::size_t client_cache_size() const noexcept { return client_cache_.size(); }
    [[nodiscard]] const policy_config& config() const noexcept { return cfg_; }
    /// A reload: the next decision uses `cfg`. Cached findings are kept:
    /// they hold outcomes, and actions are applied per decision, so a changed
    /// action shows in the next answer. The cache size stays as started.
    void reconfigure(policy_config cfg) { cfg_ = std::move(cfg); }

private:
    struct cached {
        outcome result;
        std::string evidence;
    };

    // Arguments by reference: see check_client_ptr(). Callers await at once.
    asio::awaitable<finding> sender_finding(const std::string& domain, dns::clock::time_point deadline,
                                            bool use_cache, bool& cached_hit);
    asio::awaitable<finding> client_finding(const client_info& c, dns::clock::time_point deadline, bool use_cache,
                                            bool& cached_hit);
    void remember(ttl_cache<cached>& cache, const std::string& key, const finding& f);
    static std::string client_key(const client_info& c) { return c.address + '/' + c.reverse_client_name; }
    void conclude(decision& d, std::string_view state, session_state* st) const;

    policy_config cfg_;
    dns::resolver& resolver_;
    clock_fn now_;
    ttl_cache<cached> sender_cache_;
    ttl_cache<cached> client_cache_;
};

}  // namespace mxw::engine
