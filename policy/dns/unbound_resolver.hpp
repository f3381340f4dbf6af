// dns/unbound_resolver.hpp: the daemon's resolver, libunbound behind a
// lookup_queue. libunbound resolves in its own thread (ub_ctx_async(ctx, 1);
// the default would fork a process) and signals results through ub_fd(),
// which is watched by the Asio loop; callbacks run inside ub_process() on
// the loop thread. This file pair is the only user of <unbound.h>.
#pragma once
#include "dns/lookup_queue.hpp"
#include "proto/prometheus.hpp"

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

struct ub_result;

namespace mxw::dns {

enum class transport { udp_then_tcp, tcp_only, udp_only };

struct unbound_options {
    std::vector<std::string> forwarders;  ///< "IP[@port]"; empty = resolv_conf (or recursion)
    bool recursion = false;               ///< full recursion from the root when no forwarders
    std::string resolv_conf = "/etc/resolv.conf";
    transport mode = transport::udp_then_tcp;
    bool dnssec = false;
    std::string trust_anchor_file = "/usr/share/dns/root.key";
    std::vector<std::string> transparent_zones;  ///< built-in local zones switched off
    std::chrono::milliseconds timeout{4000};
    std::size_t max_inflight = 256;

    bool operator==(const unbound_options&) const = default;
};

/// One libunbound result as an answer for `name`/`type`: `err` is the
/// callback's error code, `r` may be null. Negative answers carry the RFC
/// 2308 TTL from the SOA in the reply, or 0 when it has none. Exposed for
/// the unit tests; the resolver is its only other caller.
answer convert_result(const std::string& name, rrtype type, int err, const ub_result* r);

class unbound_resolver final : public resolver {
public:
    /// nullptr with `error` set when libunbound refuses the settings.
    static std::unique_ptr<unbound_resolver> create(asio::io_context& io, const unbound_options& opts,
                                                    std::string& error);
    ~unbound_resolver() override;

    /// A temporary failure's detail names the servers asked and the
    /// transport, e.g. "rcode 2; servers=192.0.2.53 transport=tcp-only":
    /// an admin can act on that (seeds 001, 002).
    asio::awaitable<answer> lookup(const std::string& name, rrtype type, clock::time_point deadline) override;
    /// "servers=... transport=...", as failures report it.
    [[nodiscard]] const std::string& upstream() const noexcept { return upstream_; }
    /// Lookups answered, by status (dns::status order), for the metrics.
    [[nodiscard]] const std::array<std::uint64_t, status_count>& by_status() const noexcept { return by_status_; }
    /// How long lookups took, cache hits and coalesced waits included.
    [[nodiscard]] const proto::histogram& latency() const noexcept { return latency_; }
    [[nodiscard]] lookup_stats stats() const noexcept { return queue_.stats(); }

    class unbound_backend;

private:
    unbound_resolver(std::unique_ptr<unbound_backend> b, asio::io_context& io, const unbound_options& opts);
    std::unique_ptr<unbound_backend> backend_;
    lookup_queue queue_;
    std::string upstream_;
    std::array<std::uint64_t, status_count> by_status_{};
    proto::histogram latency_{};
};

}  // namespace mxw::dns
