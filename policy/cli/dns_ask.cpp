#include "cli/dns_ask.hpp"

#include "cli/blocking_socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <vector>

namespace mxw::cli {
namespace {

using clock = std::chrono::steady_clock;

bool fill_sockaddr(const dns_server& s, sockaddr_storage& ss, socklen_t& len)
{
    std::memset(&ss, 0, sizeof ss);
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (::inet_pton(AF_INET, s.ip.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(s.port);
        len = sizeof *v4;
        return true;
    }
    if (::inet_pton(AF_INET6, s.ip.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(s.port);
        len = sizeof *v6;
        return true;
    }
    return false;
}

class fd_guard {
public:
    explicit fd_guard(int fd) : fd_(fd) {}
    ~fd_guard()
    {
        if (fd_ >= 0)
            ::close(fd_);
    }
    fd_guard(const fd_guard&) = delete;
    fd_guard& operator=(const fd_guard&) = delete;
    [[nodiscard]] int get() const { return fd_; }

private:
    int fd_;
};

std::uint16_t next_id()
{
    static thread_local std::mt19937 rng{std::random_device{}()};
    return static_cast<std::uint16_t>(rng());
}

}  // namespace

dns_attempt ask_udp(const dns_server& s, const std::string& name, std::uint16_t type, std::uint16_t edns,
                std::chrono::milliseconds timeout)
{
    dns_attempt a;
    sockaddr_storage ss;
    socklen_t len = 0;
    if (!fill_sockaddr(s, ss, len)) {
        a.why = "not an IP address";
        return a;
    }
    std::uint16_t id = next_id();
    auto q = proto::encode_dns_query(id, name, type, edns);
    if (!q) {
        a.why = "not a valid name";
        return a;
    }
    fd_guard fd(::socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    // connect() lets an ICMP port unreachable come back as ECONNREFUSED.
    if (fd.get() < 0 || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
        ::send(fd.get(), q->data(), q->size(), 0) < 0) {
        a.why = std::strerror(errno);
        return a;
    }
    auto deadline = clock::now() + timeout;
    std::vector<std::uint8_t> buf(65535);
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
        if (left <= 0) {
            a.k = dns_attempt::kind::timeout;
            return a;
        }
        pollfd p{fd.get(), POLLIN, 0};
        int rc = ::poll(&p, 1, static_cast<int>(left));
        if (rc == 0)
            continue;
        ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
        if (n < 0) {
            if (errno == ECONNREFUSED) {
                a.k = dns_attempt::kind::refused;
                return a;
            }
            if (errno == EINTR)
                continue;
            a.why = std::strerror(errno);
            return a;
        }
        auto r = proto::parse_dns_reply(std::span<const std::uint8_t>(buf.data(), static_cast<std::size_t>(n)));
        if (!r || r->id != id)
            continue;  // a stray or malformed datagram: keep waiting for ours
        a.reply = *r;
        a.k = r->truncated ? dns_attempt::kind::truncated : dns_attempt::kind::answer;
        return a;
    }
}

dns_attempt ask_tcp(const dns_server& s, const std::string& name, std::uint16_t type, std::chrono::milliseconds timeout)
{
    dns_attempt a;
    std::uint16_t id = next_id();
    auto q = proto::encode_dns_query(id, name, type, 0);
    if (!q) {
        a.why = "not a valid name";
        return a;
    }
    auto deadline = clock::now() + timeout;
    auto ep = proto::parse_endpoint("inet:" + (s.ip.find(':') != std::string::npos ? "[" + s.ip + "]" : s.ip) + ":" +
                                    std::to_string(s.port));
    if (!ep) {
        a.why = "not an IP address";
        return a;
    }
    try {
        blocking_socket sock(*ep, deadline);
        std::string framed;
        framed.push_back(static_cast<char>(q->size() >> 8));
        framed.push_back(static_cast<char>(q->size() & 0xff));
        framed += *q;
        sock.write_all(framed, deadline);
        std::string in;
        auto framed_size = [&in] {
            return 2u + (std::size_t{static_cast<std::uint8_t>(in[0])} << 8 | static_cast<std::uint8_t>(in[1]));
        };
        while (in.size() < 2 || in.size() < framed_size()) {
            if (!sock.read_some(in, 65537 - in.size(), deadline)) {
                a.why = "closed without an answer";
                return a;
            }
        }
        auto r = proto::parse_dns_reply(
            std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(in.data()) + 2, in.size() - 2));
        if (!r || r->id != id) {
            a.why = "malformed answer";
            return a;
        }
        a.reply = *r;
        a.k = dns_attempt::kind::answer;
    } catch (const std::exception& e) {
        std::string what = e.what();
        // blocking_socket says "Connection refused" or "... timed out".
        a.k = what.find("refused") != std::string::npos     ? dns_attempt::kind::refused
              : what.find("timed out") != std::string::npos ? dns_attempt::kind::timeout
                                                            : dns_attempt::kind::error;
        a.why = what;
    }
    return a;
}

// The answer a stub resolver would settle on: UDP with EDNS, TCP on TC.
std::optional<proto::dns_reply> resolve(const dns_server& s, const std::string& name, std::uint16_t type,
                                        std::chrono::milliseconds timeout)
{
    auto u = ask_udp(s, name, type, 1232, timeout);
    if (u.k != dns_attempt::kind::answer) {
        auto t = ask_tcp(s, name, type, timeout);
        if (t.k == dns_attempt::kind::answer)
            return t.reply;
        if (u.k != dns_attempt::kind::answer)
            return std::nullopt;
    }
    return u.reply;
}

std::string source_address_towards(const dns_server& s)
{
    sockaddr_storage ss;
    socklen_t len = 0;
    if (!fill_sockaddr(s, ss, len))
        return {};
    fd_guard fd(::socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    // A UDP connect sends nothing: it only makes the kernel pick the route.
    if (fd.get() < 0 || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0)
        return {};
    sockaddr_storage local{};
    socklen_t llen = sizeof local;
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&local), &llen) != 0)
        return {};
    char buf[INET6_ADDRSTRLEN] = {};
    const void* a = local.ss_family == AF_INET ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&local)->sin_addr)
                                               : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(&local)->sin6_addr);
    return ::inet_ntop(local.ss_family, a, buf, sizeof buf) ? buf : "";
}

}  // namespace mxw::cli
