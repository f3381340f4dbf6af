#include "dns/unbound_resolver.hpp"

#include "proto/dns_message.hpp"

#include <unbound.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <unordered_map>

namespace mxw::dns {
namespace {

struct ctx_deleter {
    void operator()(ub_ctx* c) const noexcept { ub_ctx_delete(c); }
};
struct result_deleter {
    void operator()(ub_result* r) const noexcept { ub_resolve_free(r); }
};

// RFC 2308 §5: a negative answer keeps min(SOA TTL, SOA MINIMUM) from its
// authority section. Without an SOA it should not be cached at all, yet
// libunbound 1.17 then reports a TTL of 32768 s (checked against a test
// server), which our caches would honour for up to an hour. Such answers
// get 0 here: the policy cache skips them and a route keeps only its
// routing.min-ttl floor. libunbound still holds them about 5 s itself, so
// repeated lookups do not reach the upstream server.
std::uint32_t negative_ttl(const ub_result* r)
{
    if (r->answer_packet == nullptr || r->answer_len <= 0)
        return 0;
    auto reply = proto::parse_dns_reply(std::span<const std::uint8_t>(
        static_cast<const std::uint8_t*>(r->answer_packet), static_cast<std::size_t>(r->answer_len)));
    if (!reply || !reply->negative_ttl)
        return 0;
    return std::min(*reply->negative_ttl, static_cast<std::uint32_t>(r->ttl > 0 ? r->ttl : 0));
}

// libunbound only notes the trust anchor file name and reads it at the first
// lookup; a missing or empty file would then fail every lookup, silently.
// Check it up front so the daemon refuses to start instead.
bool trust_anchor_usable(const std::string& path, std::string& error)
{
    std::ifstream in(path);
    if (!in) {
        error = "dns.trust-anchor-file " + path + ": cannot be read";
        return false;
    }
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string w;
        while (words >> w && w.front() != ';')
            if (w == "DS" || w == "DNSKEY")
                return true;
    }
    error = "dns.trust-anchor-file " + path + ": no DS or DNSKEY record in it";
    return false;
}

}  // namespace

answer convert_result(const std::string& name, rrtype type, int err, const ub_result* r)
{
    answer a;
    a.name = name;
    a.type = type;
    if (err != 0 || r == nullptr) {
        a.st = status::servfail;
        a.detail = err != 0 ? ub_strerror(err) : "no result";
        return a;
    }
    a.ttl = static_cast<std::uint32_t>(r->ttl > 0 ? r->ttl : 0);
    a.secure = r->secure != 0;
    if (r->bogus) {
        a.st = status::bogus;
        a.detail = r->why_bogus ? r->why_bogus : "DNSSEC validation failed";
        return a;
    }
    // SERVFAIL and REFUSED arrive as an rcode, not as an API error.
    if (r->rcode == 3) {
        a.st = status::nxdomain;
        a.ttl = negative_ttl(r);
        return a;
    }
    if (r->rcode != 0) {
        a.st = status::servfail;
        a.detail = "rcode " + std::to_string(r->rcode);
        a.ttl = 0;
        return a;
    }
    if (!r->havedata) {
        a.st = status::nodata;
        a.ttl = negative_ttl(r);
        return a;
    }
    bool malformed = false;
    for (int i = 0; r->data[i] != nullptr; ++i) {
        std::span<const std::uint8_t> rd(reinterpret_cast<const std::uint8_t*>(r->data[i]),
                                         static_cast<std::size_t>(r->len[i]));
        if (type == rrtype::mx) {
            if (auto mx = proto::parse_mx_rdata(rd))
                a.mx.push_back(std::move(*mx));
            else
                malformed = true;
        } else {
            auto v = type == rrtype::ptr ? proto::parse_dns_name(rd) : proto::parse_address_rdata(rd);
            if (v)
                a.values.push_back(std::move(*v));
            else
                malformed = true;
        }
    }
    a.st = status::ok;
    if (a.mx.empty() && a.values.empty()) {
        a.st = status::servfail;
        a.detail = "malformed records";
    } else if (malformed) {
        a.detail = "some records malformed and ignored";
    }
    return a;
}

class unbound_resolver::unbound_backend final : public backend {
public:
    unbound_backend(asio::io_context& io, ub_ctx* ctx) : ctx_(ctx), fd_(io, ::dup(ub_fd(ctx))) { arm(); }
    ~unbound_backend() override
    {
        fd_.cancel();
        for (auto& [id, p] : pending_)
            ub_cancel(ctx_.get(), id);
    }

    int start(const std::string& name, rrtype type, done_fn done) override
    {
        auto p = std::make_unique<pending>(pending{this, name, type, std::move(done), -1});
        int id = -1;
        if (ub_resolve_async(ctx_.get(), name.c_str(), static_cast<int>(type), 1 /* IN */, p.get(), &on_result, &id) !=
            0)
            return -1;
        p->id = id;
        pending_.emplace(id, std::move(p));
        return id;
    }

    void cancel(int id) override
    {
        // After ub_cancel the callback is never called (checked against
        // libunbound 1.17), so the pending record can go at once.
        if (pending_.erase(id) > 0)
            ub_cancel(ctx_.get(), id);
    }

private:
    struct pending {
        unbound_backend* self;
        std::string name;
        rrtype type;
        done_fn done;
        int id;
    };

    static void on_result(void* arg, int err, ub_result* raw)
    {
        std::unique_ptr<ub_result, result_deleter> r(raw);
        auto* p = static_cast<pending*>(arg);
        auto& map = p->self->pending_;
        auto it = map.find(p->id);
        if (it == map.end())
            return;
        std::unique_ptr<pending> owned = std::move(it->second);
        map.erase(it);
        owned->done(convert_result(owned->name, owned->type, err, r.get()));
    }

    void arm()
    {
        fd_.async_wait(asio::posix::stream_descriptor::wait_read, [this](boost::system::error_code ec) {
            if (ec)
                return;
            ub_process(ctx_.get());
            arm();
        });
    }

    std::unique_ptr<ub_ctx, ctx_deleter> ctx_;
    asio::posix::stream_descriptor fd_;  // a dup: stream_descriptor closes what it owns
    std::unordered_map<int, std::unique_ptr<pending>> pending_;
};

std::unique_ptr<unbound_resolver> unbound_resolver::create(asio::io_context& io, const unbound_options& opts,
                                                           std::string& error)
{
    std::unique_ptr<ub_ctx, ctx_deleter> ctx(ub_ctx_create());
    if (!ctx) {
        error = "ub_ctx_create failed";
        return nullptr;
    }
    auto check = [&error](int rc, const std::string& what) {
        if (rc != 0)
            error = what + ": " + ub_strerror(rc);
        return rc == 0;
    };
    // First, before anything can finalize the context: resolve in a thread.
    if (!check(ub_ctx_async(ctx.get(), 1), "ub_ctx_async"))
        return nullptr;
    switch (opts.mode) {
    case transport::udp_then_tcp: break;
    case transport::tcp_only:
        if (!check(ub_ctx_set_option(ctx.get(), "tcp-upstream:", "yes"), "dns.transport"))
            return nullptr;
        break;
    case transport::udp_only:
        // Without TCP, libunbound never accepts a truncated answer; a large
        // EDNS buffer lets big answers (many MX) come back whole over UDP.
        if (!check(ub_ctx_set_option(ctx.get(), "do-tcp:", "no"), "dns.transport") ||
            !check(ub_ctx_set_option(ctx.get(), "edns-buffer-size:", "4096"), "dns.transport"))
            return nullptr;
        break;
    }
    for (const auto& zone : opts.transparent_zones) {
        // "nodefault" through set_option is broken in libunbound 1.17;
        // "transparent" has the wanted effect: ask upstream.
        if (!check(ub_ctx_set_option(ctx.get(), "local-zone:", (zone + " transparent").c_str()),
                   "dns.transparent-zones " + zone))
            return nullptr;
    }
    // With a few forwarders (or resolv.conf servers), one that timed out
    // often is marked down for infra-host-ttl, 900 s by default: mail would
    // keep failing for a quarter of an hour after the server came back
    // (seed 002). Forget server state after 10 s instead; full recursion
    // keeps the default, its infra cache spans many servers.
    if (!opts.recursion || !opts.forwarders.empty())
        if (!check(ub_ctx_set_option(ctx.get(), "infra-host-ttl:", "10"), "infra-host-ttl"))
            return nullptr;
    if (!opts.forwarders.empty()) {
        for (const auto& f : opts.forwarders)
            if (!check(ub_ctx_set_fwd(ctx.get(), f.c_str()), "dns.forwarders " + f))
                return nullptr;
    } else if (!opts.recursion) {
        if (!check(ub_ctx_resolvconf(ctx.get(), opts.resolv_conf.c_str()), "dns.resolv-conf " + opts.resolv_conf))
            return nullptr;
    }
    if (opts.dnssec && !trust_anchor_usable(opts.trust_anchor_file, error))
        return nullptr;
    if (opts.dnssec && !check(ub_ctx_add_ta_file(ctx.get(), opts.trust_anchor_file.c_str()),
                              "dns.trust-anchor-file " + opts.trust_anchor_file))
        return nullptr;
    auto b = std::make_unique<unbound_backend>(io, ctx.release());
    return std::unique_ptr<unbound_resolver>(new unbound_resolver(std::move(b), io, opts));
}

unbound_resolver::unbound_resolver(std::unique_ptr<unbound_backend> b, asio::io_context& io,
                                   const unbound_options& opts)
    : backend_(std::move(b)), queue_(io.get_executor(), *backend_, opts.timeout, opts.max_inflight)
{
    std::string servers;
    for (const auto& f : opts.forwarders)
        servers.append(servers.empty() ? "" : ",").append(f);
    if (servers.empty())
        servers = opts.recursion ? "root(recursion)" : opts.resolv_conf;
    upstream_ = "servers=" + servers + " transport=" +
                (opts.mode == transport::udp_then_tcp ? "udp-then-tcp"
                 : opts.mode == transport::tcp_only   ? "tcp-only"
                                                      : "udp-only");
}

asio::awaitable<answer> unbound_resolver::lookup(const std::string& name, rrtype type, clock::time_point deadline)
{
    auto started = clock::now();
    answer a = co_await queue_.lookup(name, type, deadline);
    latency_.observe(std::chrono::duration<double>(clock::now() - started).count());
    ++by_status_[static_cast<std::size_t>(a.st)];
    if (is_temporary(a.st))
        a.detail.append(a.detail.empty() ? "" : "; ").append(upstream_);
    co_return a;
}

unbound_resolver::~unbound_resolver() = default;

}  // namespace mxw::dns
