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

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr const char* kUsage =
    "usage: policy_load --port P --connections C (--seconds S | --warmup-only)\n"
    "                   [--domains N] [--host 127.0.0.1]\n"
    "  --seconds S     send requests for S seconds, then report throughput and latency\n"
    "  --warmup-only   send each of the N sender domains exactly once, then report\n"
    "  --domains N     sender domains d0.bench.test .. d(N-1).bench.test (default 1000)\n";

// A server that sends nothing for this long is considered hung: its
// outstanding requests are counted as errors and the run ends.
constexpr uint64_t kStallLimitNs = 10'000'000'000;
// Real replies are short; anything longer is a broken server.
constexpr size_t kMaxReplyBytes = 4096;

struct Options {
    std::string host = "127.0.0.1";
    std::string port;
    long connections = 0;
    long seconds = 0;
    long domains = 1000;
    bool warmup_only = false;
};

[[noreturn]] void die_usage(const std::string& why) {
    std::fprintf(stderr, "policy_load: %s\n%s", why.c_str(), kUsage);
    std::exit(1);
}

long parse_long(std::string_view name, std::string_view text, long min, long max) {
    long value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max)
        die_usage(std::string(name) + " must be an integer in [" + std::to_string(min) + ", " +
                  std::to_string(max) + "]");
    return value;
}

Options parse_args(int argc, char** argv) {
    Options opt;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "--warmup-only") {
            opt.warmup_only = true;
            continue;
        }
        if (i + 1 >= argc) die_usage("missing value for " + std::string(arg));
        std::string_view value = argv[++i];
        if (arg == "--port") {
            parse_long(arg, value, 1, 65535);
            opt.port = value;
        } else if (arg == "--connections") {
            opt.connections = parse_long(arg, value, 1, 10000);
        } else if (arg == "--seconds") {
            opt.seconds = parse_long(arg, value, 1, 86400);
        } else if (arg == "--domains") {
            opt.domains = parse_long(arg, value, 1, 100'000'000);
        } else if (arg == "--host") {
            opt.host = value;
        } else {
            die_usage("unknown option " + std::string(arg));
        }
    }
    if (opt.port.empty() || opt.connections == 0) die_usage("--port and --connections are required");
    if (opt.warmup_only == (opt.seconds > 0)) die_usage("give exactly one of --seconds and --warmup-only");
    return opt;
}

uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(ts.tv_nsec);
}

// Log-linear latency histogram in microseconds: exact below 128 us, then 64
// buckets per power of two (at most 1.6 % relative error), up to 2^64 us.
class Histogram {
public:
    void record(uint64_t us) {
        ++counts_[index(us)];
        ++total_;
    }
    uint64_t total() const { return total_; }

    // The highest value of the bucket holding the q-quantile, 0 when empty.
    uint64_t quantile(double q) const {
        if (total_ == 0) return 0;
        auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total_)));
        rank = std::clamp<uint64_t>(rank, 1, total_);
        uint64_t seen = 0;
        for (size_t i = 0; i < kBuckets; ++i) {
            seen += counts_[i];
            if (seen >= rank) return highest_in(i);
        }
        return highest_in(kBuckets - 1);
    }

private:
    static constexpr int kSubBits = 6;
    static constexpr size_t kBuckets = (64 - kSubBits) * (1 << kSubBits);

    // For v >= 2^kSubBits, drop the low bits so that v >> shift lands in
    // [2^kSubBits, 2^(kSubBits+1)); each shift value owns the next 64 buckets.
    static size_t index(uint64_t v) {
        int shift = std::max(0, static_cast<int>(std::bit_width(v)) - 1 - kSubBits);
        return (static_cast<size_t>(shift) << kSubBits) + static_cast<size_t>(v >> shift);
    }
    static uint64_t highest_in(size_t i) {
        size_t shift = i < (2u << kSubBits) ? 0 : (i >> kSubBits) - 1;
        uint64_t lowest = static_cast<uint64_t>(i - (shift << kSubBits)) << shift;
        return lowest + (uint64_t{1} << shift) - 1;
    }

    std::array<uint64_t, kBuckets> counts_{};
    uint64_t total_ = 0;
};

struct Connection {
    int fd = -1;
    uint32_t id = 0;
    uint64_t sent_at = 0;  // when the outstanding request was written; 0 = none outstanding
    uint64_t sequence = 0; // requests sent on this connection, feeds queue_id and instance
    std::string reply;     // reply bytes received so far
};

class LoadRun {
public:
    explicit LoadRun(const Options& opt) : opt_(opt) {
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
        if (int rc = getaddrinfo(opt.host.c_str(), opt.port.c_str(), &hints, &server_); rc != 0)
            die_usage("bad --host: " + std::string(gai_strerror(rc)));
        epoll_fd_ = epoll_create1(0);
        long count = opt.warmup_only ? std::min(opt.connections, opt.domains) : opt.connections;
        // Fixed size: epoll events point at these elements.
        connections_.resize(static_cast<size_t>(count));
    }
    ~LoadRun() {
        freeaddrinfo(server_);
        close(epoll_fd_);
    }
    LoadRun(const LoadRun&) = delete;
    LoadRun& operator=(const LoadRun&) = delete;

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
            uint64_t now = now_ns();
            uint64_t give_up = last_reply_ + kStallLimitNs;
            int wait_ms = now >= give_up ? 0 : static_cast<int>((give_up - now) / 1'000'000 + 1);
            int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), wait_ms);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                // Nothing heard for kStallLimitNs (or epoll broke): every
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
        c.fd = socket(server_->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c.fd < 0) return false;
        // Connect while still blocking: on loopback this returns at once.
        if (connect(c.fd, server_->ai_addr, server_->ai_addrlen) != 0) {
            int saved = errno;
            close(c.fd);
            c.fd = -1;
            errno = saved;
            return false;
        }
        int one = 1;
        setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = &c;
        epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c.fd, &ev);
        return true;
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
        double seconds = static_cast<double>(last_reply_ - start_) / 1e9;
        double rps = seconds > 0 ? static_cast<double>(latency_.total()) / seconds : 0;
        std::printf(
            "connections=%zu requests=%llu seconds=%.3f rps=%.0f p50_us=%llu p99_us=%llu "
            "p999_us=%llu errors=%llu\n",
            connections_.size(), static_cast<unsigned long long>(latency_.total()), seconds, rps,
            static_cast<unsigned long long>(latency_.quantile(0.5)),
            static_cast<unsigned long long>(latency_.quantile(0.99)),
            static_cast<unsigned long long>(latency_.quantile(0.999)),
            static_cast<unsigned long long>(errors_));
    }

    const Options& opt_;
    addrinfo* server_ = nullptr;
    int epoll_fd_ = -1;
    std::vector<Connection> connections_;
    std::string request_;
    Histogram latency_;
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
