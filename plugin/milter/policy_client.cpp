#include "milter/policy_client.hpp"

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

namespace mxw::milter {
namespace {

// A closed connection noticed only when it is used again: worth one retry.
class stale_connection : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

std::string os_error(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

policy_client::~policy_client() { close(); }

void policy_client::close() noexcept
{
    if (fd_ >= 0)
        ::close(fd_);
    fd_ = -1;
    // A half-read reply belongs to the connection that is gone.
    decoder_ = proto::policy_reply_decoder{};
}

void policy_client::wait(short events, clock::time_point deadline, const char* what)
{
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
        if (left <= 0)
            throw std::runtime_error(std::string("timeout while ") + what);
        pollfd p{fd_, events, 0};
        int n = ::poll(&p, 1, static_cast<int>(left));
        if (n > 0)
            return;
        if (n < 0 && errno != EINTR)
            throw std::runtime_error(os_error("poll"));
    }
}

void policy_client::connect(clock::time_point deadline)
{
    sockaddr_storage ss{};
    socklen_t len = 0;
    int family = AF_UNIX;
    if (peer_.type == proto::endpoint::kind::unix_socket) {
        auto* sun = reinterpret_cast<sockaddr_un*>(&ss);
        if (peer_.path.size() >= sizeof sun->sun_path)
            throw std::runtime_error("unix socket path too long");
        sun->sun_family = AF_UNIX;
        std::memcpy(sun->sun_path, peer_.path.c_str(), peer_.path.size() + 1);
        len = sizeof(sockaddr_un);
    } else if (peer_.host.find(':') != std::string::npos) {
        auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
        family = s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(peer_.port);
        if (::inet_pton(AF_INET6, peer_.host.c_str(), &s6->sin6_addr) != 1)
            throw std::runtime_error("bad address " + peer_.host);
        len = sizeof(sockaddr_in6);
    } else {
        auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
        family = s4->sin_family = AF_INET;
        s4->sin_port = htons(peer_.port);
        if (::inet_pton(AF_INET, peer_.host.c_str(), &s4->sin_addr) != 1)
            throw std::runtime_error("bad address " + peer_.host);
        len = sizeof(sockaddr_in);
    }
    fd_ = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0)
        throw std::runtime_error(os_error("socket"));
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&ss), len) == 0)
        return;
    if (errno != EINPROGRESS && errno != EAGAIN)
        throw std::runtime_error(os_error("connect"));
    wait(POLLOUT, deadline, "connecting");
    int err = 0;
    socklen_t el = sizeof err;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err != 0) {
        errno = err;
        throw std::runtime_error(os_error("connect"));
    }
}

void policy_client::write_all(const std::string& bytes, clock::time_point deadline)
{
    std::size_t done = 0;
    while (done < bytes.size()) {
        // MSG_NOSIGNAL: a daemon gone away is an error to report, not SIGPIPE.
        ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
        if (n > 0) {
            done += static_cast<std::size_t>(n);
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            wait(POLLOUT, deadline, "writing");
        } else if (errno == EPIPE || errno == ECONNRESET) {
            throw stale_connection(os_error("write"));
        } else {
            throw std::runtime_error(os_error("write"));
        }
    }
}

std::string policy_client::read_reply(clock::time_point deadline, bool& got_bytes)
{
    char buf[4096];
    for (;;) {
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            wait(POLLIN, deadline, "waiting for the reply");
            continue;
        }
        if (n <= 0) {
            std::string why = n == 0 ? "connection closed by the daemon" : os_error("read");
            if (!got_bytes && (n == 0 || errno == ECONNRESET))
                throw stale_connection(why);
            throw std::runtime_error(why);
        }
        got_bytes = true;
        std::string_view in(buf, static_cast<std::size_t>(n));
        proto::step s = decoder_.feed(in);
        if (s == proto::step::error)
            throw std::runtime_error("malformed reply: " + decoder_.error().message());
        if (s == proto::step::frame) {
            // One request, one reply: bytes after it are not ours to keep.
            if (decoder_.consumed() != in.size())
                throw std::runtime_error("unexpected bytes after the reply");
            return decoder_.action();
        }
    }
}

policy_client::answer policy_client::ask(const proto::policy_request& req)
{
    const auto deadline = clock::now() + timeout_;
    const std::string wire = proto::encode_policy_request(req);
    answer a;
    for (int attempt = 0; attempt < 2; ++attempt) {
        const bool reused = fd_ >= 0;
        bool got_bytes = false;
        try {
            if (!reused)
                connect(deadline);
            write_all(wire, deadline);
            a.action = read_reply(deadline, got_bytes);
            a.ok = true;
            return a;
        } catch (const stale_connection& e) {
            close();
            a.error = e.what();
            if (!reused)
                return a;
        } catch (const std::exception& e) {
            close();
            a.error = e.what();
            return a;
        }
    }
    return a;
}

}  // namespace mxw::milter
