// policy_load: closed-loop load generator for Postfix policy servers.
//
// Each connection behaves like one smtpd(8) process: a persistent connection
// with strictly one outstanding request, the next one sent as soon as the
// reply arrives. All connections are driven by one epoll thread, which leaves
// the other core of the benchmark machine to the server under test.
//
// Output: one line of key=value results on stdout. Exit status 0 when the run
// took place (failed requests are counted in errors=), 1 on bad usage or when
// the server cannot be reached.

#include "load_common.hpp"

#include <cstring>
#include <vector>

namespace {

using namespace mxw::bench;

constexpr usage kUsage{
    "policy_load",
    "usage: policy_load --port P --connections C (--seconds S | --warmup-only)\n"
    "                   [--domains N] [--host 127.0.0.1]\n"
    "  --seconds S     send requests for S seconds, then report throughput and latency\n"
    "  --warmup-only   send each of the N sender domains exactly once, then report\n"
    "  --domains N     sender domains d0.bench.test .. d(N-1).bench.test (default 1000)\n"};

// Real replies are short; anything longer is a broken server.
constexpr size_t kMaxReplyBytes = 4096;

using Options = common_options;

Options parse_args(int argc, char** argv) {
    Options opt;
    mxw::bench::parse_args(argc, argv, kUsage, opt, [](std::string_view, std::string_view) { return false; });
    return opt;
}

struct Connection {
    int fd = -1;
    uint32_t id = 0;
    uint64_t sent_at = 0;  // when the outstanding request was written; 0 = none outstanding
    uint64_t sequence = 0; // requests sent on this connection, feeds queue_id and instance
    std::string reply;     // reply bytes received so far
};

class LoadRun {
public:
    explicit LoadRun(const Options& opt) : opt_(opt), server_(opt, kUsage) {
        long count = opt.warmup_only ? std::min(opt.connections, opt.domains) : opt.connections;
        // Fixed size: epoll events point at these elements.
        connections_.resize(static_cast<size_t>(count));
    }
    int run() {
        for (size_t i = 0; i < connections_.size(); ++i) {
            connections_[i].id = static_cast<uint32_t>(i);
            if (!connect_to_server(connections_[i])) {
                std::fprintf(stderr, "policy_load: connect to %s port %s: %s\n", opt_.host.c_str(),
                             opt_.port.c_str(), std::strerror(errno));
                return 1;
            }
        }
        start_ = last_reply_ = now_ns();
        deadline_ = start_ + static_cast<uint64_t>(opt_.seconds) * 1'000'000'000;
        for (auto& c : connections_) send_next_or_finish(c);

        std::array<epoll_event, 256> events{};
        while (outstanding_ > 0) {
            int n = server_.wait(events, last_reply_);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                // Nothing heard for stall_limit_ns (or epoll broke): every
                // request still waiting for a reply failed.
                for (auto& c : connections_)
                    if (c.sent_at != 0) fail(c, false);
                break;
            }
            for (int i = 0; i < n; ++i) on_readable(*static_cast<Connection*>(events[i].data.ptr));
        }
        report();
        return 0;
    }

private:
    bool connect_to_server(Connection& c) {
        c.fd = server_.connect(&c);
        return c.fd >= 0;
    }

    // Whether the run wants another request, and which sender domain it uses.
    bool take_domain(uint64_t& domain) {
        if (opt_.warmup_only) {
            if (next_domain_ >= static_cast<uint64_t>(opt_.domains)) return false;
        } else if (now_ns() >= deadline_) {
            return false;
        }
        domain = next_domain_++ % static_cast<uint64_t>(opt_.domains);
        return true;
    }

    void send_next_or_finish(Connection& c) {
        uint64_t domain = 0;
        if (!take_domain(domain)) {
            close(c.fd);
            c.fd = -1;
            return;
        }
        format_request(c, domain);
        c.sent_at = now_ns();
        ++outstanding_;
        // Only one request is ever in flight and the server read the previous
        // one completely before replying, so the send buffer is empty and a
        // short write cannot happen with a working server.
        ssize_t n = send(c.fd, request_.data(), request_.size(), MSG_NOSIGNAL);
        if (n != static_cast<ssize_t>(request_.size())) fail(c, true);
    }

    // A request like the ones Postfix 3.7 smtpd sends for a RCPT TO check from
    // smtpd_recipient_restrictions (attribute order as in smtpd_check.c). The
    // client name is a confirmed one, so the server needs no PTR lookup.
    void format_request(Connection& c, uint64_t domain) {
        uint64_t seq = c.sequence++;
        char buf[1024];
        int len = std::snprintf(
            buf, sizeof buf,
            "request=smtpd_access_policy\n"
            "protocol_state=RCPT\n"
            "protocol_name=ESMTP\n"
            "helo_name=mail.example.net\n"
            "queue_id=%03X%08llX\n"
            "sender=newsletter-bounces+%llu@d%llu.bench.test\n"
            "recipient=user%llu@example.org\n"
            "recipient_count=0\n"
            "client_address=127.0.0.%u\n"
            "client_name=mail.example.net\n"
            "reverse_client_name=mail.example.net\n"
            "instance=%x.%llx.%llx.%x\n"
            "sasl_method=\n"
            "sasl_username=\n"
            "sasl_sender=\n"
            "size=%llu\n"
            "ccert_subject=\n"
            "ccert_issuer=\n"
            "ccert_fingerprint=\n"
            "encryption_protocol=TLSv1.3\n"
            "encryption_cipher=TLS_AES_256_GCM_SHA384\n"
            "encryption_keysize=256\n"
            "etrn_domain=\n"
            "stress=\n"
            "ccert_pubkey_fingerprint=\n"
            "client_port=%u\n"
            "policy_context=\n"
            "server_address=127.0.0.1\n"
            "server_port=25\n"
            "\n",
            c.id, static_cast<unsigned long long>(seq), static_cast<unsigned long long>(seq),
            static_cast<unsigned long long>(domain), static_cast<unsigned long long>(seq % 500),
            20 + c.id % 4, 10000 + c.id, static_cast<unsigned long long>(start_ / 1'000'000'000),
            static_cast<unsigned long long>(seq), 0u,
            static_cast<unsigned long long>(2000 + (seq * 7919) % 200000), 30000 + c.id);
        request_.assign(buf, static_cast<size_t>(len));
    }

    void on_readable(Connection& c) {
        char buf[1024];
        ssize_t n = read(c.fd, buf, sizeof buf);
        if (n < 0 && errno == EAGAIN) return;
        if (n <= 0 || c.sent_at == 0) {  // closed, failed, or talking out of turn
            fail(c, true);
            return;
        }
        c.reply.append(buf, static_cast<size_t>(n));
        size_t end = c.reply.find("\n\n");
        if (end == std::string::npos) {
            if (c.reply.size() > kMaxReplyBytes) fail(c, true);
            return;
        }
        if (end + 2 != c.reply.size() || !c.reply.starts_with("action=")) {
            fail(c, true);
            return;
        }
        last_reply_ = now_ns();
        latency_.record((last_reply_ - c.sent_at) / 1000);
        c.reply.clear();
        c.sent_at = 0;
        --outstanding_;
        send_next_or_finish(c);
    }

    // Counts the outstanding request as failed and drops the connection. Like
    // smtpd, reconnect and carry on if asked to and the run is not over.
    void fail(Connection& c, bool reconnect) {
        ++errors_;
        if (c.sent_at != 0) --outstanding_;
        c.sent_at = 0;
        c.reply.clear();
        if (c.fd >= 0) close(c.fd);
        c.fd = -1;
        if (reconnect && connect_to_server(c)) send_next_or_finish(c);
    }

    void report() const {
        print_latency(connections_.size(), latency_, static_cast<double>(last_reply_ - start_) / 1e9);
        std::printf(" errors=%llu\n", static_cast<unsigned long long>(errors_));
    }

    const Options& opt_;
    server server_;
    std::vector<Connection> connections_;
    std::string request_;
    histogram latency_;
    uint64_t start_ = 0;
    uint64_t deadline_ = 0;
    uint64_t last_reply_ = 0;
    uint64_t next_domain_ = 0;
    uint64_t outstanding_ = 0;
    uint64_t errors_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
    Options opt = parse_args(argc, argv);
    LoadRun run(opt);
    return run.run();
}
