#include "net/listener.hpp"

#include "proto/sanitize.hpp"

#include <cstddef>
#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace mxw::net {
namespace {

template <class Protocol, class Session>
class basic_listener final : public listener {
public:
    basic_listener(asio::io_context& io, std::string name, Session session, connection_count& count,
                   base::logger& log)
        : acceptor_(io), name_(std::move(name)), session_(std::move(session)), count_(count), log_(log)
    {
    }

    typename Protocol::acceptor& acceptor() { return acceptor_; }

    void close() override
    {
        boost::system::error_code ec;
        acceptor_.close(ec);
    }

    asio::awaitable<void> accept_loop()
    {
        for (;;) {
            boost::system::error_code ec;
            auto sock = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
            if (ec == asio::error::operation_aborted || !acceptor_.is_open())
                co_return;
            if (ec) {
                // EMFILE and friends: say so, breathe, and go on accepting.
                log_.warning("event=accept-failed listener=" + name_ + " error=" + proto::log_value(ec.message()));
                asio::steady_timer pause(acceptor_.get_executor(), std::chrono::milliseconds(100));
                co_await pause.async_wait(asio::use_awaitable);
                continue;
            }
            if (count_.active >= count_.max) {
                if (refused_++ % 1000 == 0)
                    log_.warning("event=connection-refused listener=" + name_ + " reason=max-connections max=" +
                                 std::to_string(count_.max) + " refused=" + std::to_string(refused_));
                continue;  // the socket closes as it goes out of scope
            }
            ++count_.active;
            asio::co_spawn(acceptor_.get_executor(), session_(std::move(sock)),
                           [this](std::exception_ptr e) {
                               --count_.active;
                               if (!e)
                                   return;
                               try {
                                   std::rethrow_exception(e);
                               } catch (const std::exception& ex) {
                                   log_.error("event=session-failed listener=" + name_ +
                                              " error=" + proto::log_value(ex.what()));
                               }
                           });
        }
    }

private:
    typename Protocol::acceptor acceptor_;
    std::string name_;
    Session session_;
    connection_count& count_;
    base::logger& log_;
    std::uint64_t refused_ = 0;
};

[[noreturn]] void fail(const proto::endpoint& where, const std::error_code& ec)
{
    throw std::system_error(ec, "cannot listen on " + proto::to_string(where));
}

[[noreturn]] void fail(const proto::endpoint& where, const boost::system::error_code& ec)
{
    fail(where, std::error_code(ec.value(), std::generic_category()));
}

}  // namespace

std::string describe_socket(int fd)
{
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
        return "fd:" + std::to_string(fd);
    char buf[INET6_ADDRSTRLEN] = "";
    if (ss.ss_family == AF_INET) {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
        return "inet:" + std::string(buf) + ":" + std::to_string(ntohs(a->sin_port));
    }
    if (ss.ss_family == AF_INET6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
        return "inet:[" + std::string(buf) + "]:" + std::to_string(ntohs(a->sin6_port));
    }
    if (ss.ss_family == AF_UNIX) {
        auto* a = reinterpret_cast<sockaddr_un*>(&ss);
        std::size_t n = len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
        return "unix:" + std::string(a->sun_path, ::strnlen(a->sun_path, n));
    }
    return "fd:" + std::to_string(fd);
}

std::unique_ptr<listener> adopt_listener(asio::io_context& io, int fd, std::string name, tcp_session on_tcp,
                                         unix_session on_unix, connection_count& count, base::logger& log)
{
    const std::string what = "inherited socket " + std::to_string(fd) + " for " + name + " is not usable";
    auto bad = [&](std::errc e) {
        ::close(fd);
        throw std::system_error(std::make_error_code(e), what);
    };
    int type = 0, listening = 0;
    socklen_t len = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM)
        bad(std::errc::not_a_stream);
    len = sizeof listening;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening)
        bad(std::errc::invalid_argument);
    sockaddr_storage ss{};
    len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
        bad(std::errc::bad_file_descriptor);
    boost::system::error_code ec;
    if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
        auto l = std::make_unique<basic_listener<asio::ip::tcp, tcp_session>>(io, std::move(name), std::move(on_tcp),
                                                                               count, log);
        l->acceptor().assign(ss.ss_family == AF_INET ? asio::ip::tcp::v4() : asio::ip::tcp::v6(), fd, ec);
        if (ec)
            bad(std::errc::bad_file_descriptor);
        asio::co_spawn(io, l->accept_loop(), asio::detached);
        return l;
    }
    if (ss.ss_family != AF_UNIX)
        bad(std::errc::address_family_not_supported);
    auto l = std::make_unique<basic_listener<asio::local::stream_protocol, unix_session>>(io, std::move(name),
                                                                                          std::move(on_unix), count, log);
    l->acceptor().assign(asio::local::stream_protocol(), fd, ec);
    if (ec)
        bad(std::errc::bad_file_descriptor);
    asio::co_spawn(io, l->accept_loop(), asio::detached);
    return l;
}

std::unique_ptr<listener> start_listener(asio::io_context& io, const proto::endpoint& where, std::string name,
                                         tcp_session on_tcp, unix_session on_unix, connection_count& count,
                                         base::logger& log, unsigned unix_mode)
{
    boost::system::error_code ec;
    if (where.type == proto::endpoint::kind::inet) {
        auto l = std::make_unique<basic_listener<asio::ip::tcp, tcp_session>>(io, std::move(name), std::move(on_tcp),
                                                                               count, log);
        asio::ip::tcp::endpoint ep(asio::ip::make_address(where.host), where.port);
        auto& a = l->acceptor();
        if (a.open(ep.protocol(), ec); ec) fail(where, ec);
        if (a.set_option(asio::socket_base::reuse_address(true), ec); ec) fail(where, ec);
        if (a.bind(ep, ec); ec) fail(where, ec);
        if (a.listen(asio::socket_base::max_listen_connections, ec); ec) fail(where, ec);
        asio::co_spawn(io, l->accept_loop(), asio::detached);
        return l;
    }
    // Only a leftover socket may be removed: a typo in the path must never
    // delete somebody's file.
    struct stat st {};
    if (::lstat(where.path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            fail(where, std::make_error_code(std::errc::file_exists));  // not a socket: leave it
        ::unlink(where.path.c_str());
    }
    auto l = std::make_unique<basic_listener<asio::local::stream_protocol, unix_session>>(io, std::move(name),
                                                                                          std::move(on_unix), count, log);
    asio::local::stream_protocol::endpoint ep(where.path);
    auto& a = l->acceptor();
    if (a.open(ep.protocol(), ec); ec) fail(where, ec);
    if (a.bind(ep, ec); ec) fail(where, ec);
    if (::chmod(where.path.c_str(), unix_mode) != 0)
        fail(where, std::error_code(errno, std::generic_category()));
    if (a.listen(asio::socket_base::max_listen_connections, ec); ec) fail(where, ec);
    asio::co_spawn(io, l->accept_loop(), asio::detached);
    return l;
}

}  // namespace mxw::net
