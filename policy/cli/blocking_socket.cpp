#include "cli/blocking_socket.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace mxw::cli {
namespace {

[[noreturn]] void fail(const std::string& peer, std::string_view what, int err)
{
    throw std::runtime_error(peer + ": " + std::string(what) + ": " + std::strerror(err));
}

}  // namespace

blocking_socket::blocking_socket(const proto::endpoint& peer, clock::time_point deadline)
    : peer_(proto::to_string(peer))
{
    sockaddr_storage ss{};
    socklen_t len = 0;
    int family = AF_UNIX;
    if (peer.type == proto::endpoint::kind::unix_socket) {
        auto* sun = reinterpret_cast<sockaddr_un*>(&ss);
        if (peer.path.size() >= sizeof(sun->sun_path))
            throw std::runtime_error(peer_ + ": socket path too long");
        sun->sun_family = AF_UNIX;
        std::memcpy(sun->sun_path, peer.path.c_str(), peer.path.size() + 1);
        len = sizeof(sockaddr_un);
    } else {
        auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
        if (inet_pton(AF_INET, peer.host.c_str(), &sin->sin_addr) == 1) {
            family = sin->sin_family = AF_INET;
            sin->sin_port = htons(peer.port);
            len = sizeof(sockaddr_in);
        } else if (inet_pton(AF_INET6, peer.host.c_str(), &sin6->sin6_addr) == 1) {
            family = sin6->sin6_family = AF_INET6;
            sin6->sin6_port = htons(peer.port);
            len = sizeof(sockaddr_in6);
        } else {
            throw std::runtime_error(peer_ + ": not an IP address");
        }
    }
    fd_ = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0)
        fail(peer_, "socket", errno);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
        if (errno != EINPROGRESS && errno != EAGAIN)
            fail(peer_, "connect", errno);
        wait(POLLOUT, deadline, "connect");
        int err = 0;
        socklen_t elen = sizeof(err);
        ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &elen);
        if (err != 0)
            fail(peer_, "connect", err);
    }
}

blocking_socket::~blocking_socket()
{
    if (fd_ >= 0)
        ::close(fd_);
}

void blocking_socket::wait(short events, clock::time_point deadline, std::string_view what)
{
    for (;;) {
        // Rounded up: poll() takes whole milliseconds, and rounding down
        // would give up before the deadline.
        auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now()).count();
        if (left <= 0)
            throw socket_timeout(peer_ + ": " + std::string(what) + ": timed out");
        pollfd p{fd_, events, 0};
        int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 60'000)));
        if (n > 0)
            return;
        if (n < 0 && errno != EINTR)
            fail(peer_, what, errno);
    }
}

void blocking_socket::write_all(std::string_view bytes, clock::time_point deadline)
{
    while (!bytes.empty()) {
        // MSG_NOSIGNAL: a peer that hangs up must be an error here, not a
        // SIGPIPE that kills the CLI halfway through a release.
        ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n > 0) {
            bytes.remove_prefix(static_cast<std::size_t>(n));
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            wait(POLLOUT, deadline, "write");
        } else if (n < 0 && errno != EINTR) {
            fail(peer_, "write", errno);
        }
    }
}

bool blocking_socket::read_some(std::string& out, std::size_t max, clock::time_point deadline)
{
    char buf[16384];
    for (;;) {
        ssize_t n = ::recv(fd_, buf, std::min(sizeof buf, max), 0);
        if (n > 0) {
            out.append(buf, static_cast<std::size_t>(n));
            return true;
        }
        if (n == 0)
            return false;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            wait(POLLIN, deadline, "read");
        else if (errno != EINTR)
            fail(peer_, "read", errno);
    }
}

void blocking_socket::shutdown_write() noexcept { ::shutdown(fd_, SHUT_WR); }

}  // namespace mxw::cli
