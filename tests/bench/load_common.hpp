// load_common.hpp: what the closed-loop load generators (policy_load, socketmap_load) share: the command line
// options they both take, a monotonic clock, the latency histogram, the connection to the server under test and
// the common part of the result line. Header-only, so build.sh stays one compiler call per tool; Linux only
// (epoll). The protocols, the request mix and the run loops stay in each tool.
#pragma once

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
#include <ctime>
#include <string>
#include <string_view>

namespace mxw::bench {

// A server that sends nothing for this long is considered hung: its outstanding requests are counted as errors
// and the run ends.
constexpr uint64_t stall_limit_ns = 10'000'000'000;

/// The tool's name and usage text, for every complaint about the command line.
struct usage {
    const char* tool;
    const char* text;

    /// Prints "TOOL: WHY" and the usage text on stderr, then exits with status 1.
    [[noreturn]] void die(const std::string& why) const {
        std::fprintf(stderr, "%s: %s\n%s", tool, why.c_str(), text);
        std::exit(1);
    }

    /// TEXT as an integer in [MIN, MAX]; anything else is a usage error naming the option NAME.
    long parse_long(std::string_view name, std::string_view text_value, long min, long max) const {
        long value = 0;
        auto [end, ec] = std::from_chars(text_value.data(), text_value.data() + text_value.size(), value);
        if (ec != std::errc() || end != text_value.data() + text_value.size() || value < min || value > max)
            die(std::string(name) + " must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) +
                "]");
        return value;
    }
};

/// The options both tools take: --port, --connections, --seconds S | --warmup-only, --domains, --host.
struct common_options {
    std::string host = "127.0.0.1";
    std::string port;
    long connections = 0;
    long seconds = 0;
    long domains = 1000;
    bool warmup_only = false;
};

/// Parses argv into OPT. An option that is not common goes to EXTRA(name, value), which returns false for one it
/// does not know either; every option but --warmup-only takes a value. Checks the common rules afterwards.
template <typename Extra>
void parse_args(int argc, char** argv, const usage& u, common_options& opt, Extra&& extra) {
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "--warmup-only") {
            opt.warmup_only = true;
            continue;
        }
        if (i + 1 >= argc) u.die("missing value for " + std::string(arg));
        std::string_view value = argv[++i];
        if (arg == "--port") {
            u.parse_long(arg, value, 1, 65535);
            opt.port = value;
        } else if (arg == "--connections") {
            opt.connections = u.parse_long(arg, value, 1, 10000);
        } else if (arg == "--seconds") {
            opt.seconds = u.parse_long(arg, value, 1, 86400);
        } else if (arg == "--domains") {
            opt.domains = u.parse_long(arg, value, 1, 100'000'000);
        } else if (arg == "--host") {
            opt.host = value;
        } else if (!extra(arg, value)) {
            u.die("unknown option " + std::string(arg));
        }
    }
    if (opt.port.empty() || opt.connections == 0) u.die("--port and --connections are required");
    if (opt.warmup_only == (opt.seconds > 0)) u.die("give exactly one of --seconds and --warmup-only");
}

inline uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(ts.tv_nsec);
}

/// Log-linear latency histogram in microseconds: exact below 128 us, then 64 buckets per power of two (at most
/// 1.6 % relative error), up to 2^64 us.
class histogram {
public:
    void record(uint64_t us) {
        ++counts_[index(us)];
        ++total_;
    }
    uint64_t total() const { return total_; }

    /// The highest value of the bucket holding the q-quantile, 0 when empty.
    uint64_t quantile(double q) const {
        if (total_ == 0) return 0;
        auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total_)));
        rank = std::clamp<uint64_t>(rank, 1, total_);
        uint64_t seen = 0;
        for (size_t i = 0; i < buckets; ++i) {
            seen += counts_[i];
            if (seen >= rank) return highest_in(i);
        }
        return highest_in(buckets - 1);
    }

private:
    static constexpr int sub_bits = 6;
    // Shift 0 owns buckets [0, 128), shift s >= 1 owns the 64 from (s + 1) * 64, and the largest shift, for
    // 2^63 <= v, is 63 - sub_bits.
    static constexpr size_t buckets = (64 - sub_bits + 1) * (1 << sub_bits);

    // For v >= 2^sub_bits, drop the low bits so that v >> shift lands in [2^sub_bits, 2^(sub_bits+1)); each shift
    // value owns the next 64 buckets.
    static size_t index(uint64_t v) {
        int shift = std::max(0, static_cast<int>(std::bit_width(v)) - 1 - sub_bits);
        return (static_cast<size_t>(shift) << sub_bits) + static_cast<size_t>(v >> shift);
    }
    static uint64_t highest_in(size_t i) {
        size_t shift = i < (2u << sub_bits) ? 0 : (i >> sub_bits) - 1;
        uint64_t lowest = static_cast<uint64_t>(i - (shift << sub_bits)) << shift;
        return lowest + (uint64_t{1} << shift) - 1;
    }

    std::array<uint64_t, buckets> counts_{};
    uint64_t total_ = 0;
};

/// The server under test (numeric host and port only) and the epoll set the connections to it join.
class server {
public:
    server(const common_options& opt, const usage& u) {
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
        if (int rc = getaddrinfo(opt.host.c_str(), opt.port.c_str(), &hints, &address_); rc != 0)
            u.die("bad --host: " + std::string(gai_strerror(rc)));
        epoll_fd_ = epoll_create1(0);
    }
    ~server() {
        freeaddrinfo(address_);
        close(epoll_fd_);
    }
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// A new non-blocking TCP_NODELAY connection, registered for EPOLLIN with TAG as its event data; -1 with errno
    /// set when it cannot be made.
    int connect(void* tag) const {
        int fd = socket(address_->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return -1;
        // Connect while still blocking: on loopback this returns at once.
        if (::connect(fd, address_->ai_addr, address_->ai_addrlen) != 0) {
            int saved = errno;
            close(fd);
            errno = saved;
            return -1;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = tag;
        epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
        return fd;
    }

    /// epoll_wait for at most until LAST_REPLY + stall_limit_ns: the number of events, 0 once the server has been
    /// silent that long, -1 with errno on failure.
    template <size_t N>
    int wait(std::array<epoll_event, N>& events, uint64_t last_reply) const {
        uint64_t now = now_ns();
        uint64_t give_up = last_reply + stall_limit_ns;
        int wait_ms = now >= give_up ? 0 : static_cast<int>((give_up - now) / 1'000'000 + 1);
        return epoll_wait(epoll_fd_, events.data(), static_cast<int>(N), wait_ms);
    }

private:
    addrinfo* address_ = nullptr;
    int epoll_fd_ = -1;
};

/// Prints the start of the result line both tools share, without a newline:
/// connections= requests= seconds= rps= p50_us= p99_us= p999_us=
inline void print_latency(size_t connections, const histogram& latency, double seconds) {
    double rps = seconds > 0 ? static_cast<double>(latency.total()) / seconds : 0;
    std::printf("connections=%zu requests=%llu seconds=%.3f rps=%.0f p50_us=%llu p99_us=%llu p999_us=%llu",
                connections, static_cast<unsigned long long>(latency.total()), seconds, rps,
                static_cast<unsigned long long>(latency.quantile(0.5)),
                static_cast<unsigned long long>(latency.quantile(0.99)),
                static_cast<unsigned long long>(latency.quantile(0.999)));
}

}  // namespace mxw::bench
