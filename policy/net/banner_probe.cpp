#include "net/banner_probe.hpp"

#include "proto/smtp_reply.hpp"

#include <array>
#include <memory>

namespace mxw::net {
namespace {

using engine::probe_outcome;
using clock = std::chrono::steady_clock;

// Shared with the deadline handler, which may run after the probe's frame
// is gone (a timer that fired just as the operation completed).
struct probe_socket {
    explicit probe_socket(const asio::any_io_executor& ex) : sock(ex) {}
    asio::ip::tcp::socket sock;
    bool timed_out = false;
};

void arm(asio::steady_timer& timer, std::chrono::milliseconds d, const std::shared_ptr<probe_socket>& ps)
{
    ps->timed_out = false;
    timer.expires_after(d);
    timer.async_wait([ps](boost::system::error_code ec) {
        if (ec)
            return;
        ps->timed_out = true;
        boost::system::error_code ignored;
        ps->sock.close(ignored);
    });
}

std::string joined(const proto::smtp_reply& r)
{
    std::string out = std::to_string(r.code);
    for (const auto& l : r.lines)
        out.append(" ").append(l);
    return out;
}

}  // namespace

asio::awaitable<engine::probe_result> banner_prober::probe(const std::string& address, std::uint16_t port)
{
    auto start = clock::now();
    auto done = [&](probe_outcome o, std::string detail) {
        return engine::probe_result{o, std::move(detail),
                                    std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - start)};
    };
    boost::system::error_code ec;
    auto ip = asio::ip::make_address(address, ec);
    if (ec)
        co_return done(probe_outcome::garbage, "not an IP address");

    auto ps = std::make_shared<probe_socket>(ex_);
    asio::steady_timer timer(ex_);
    arm(timer, connect_timeout_, ps);
    co_await ps->sock.async_connect({ip, port}, asio::redirect_error(asio::use_awaitable, ec));
    timer.cancel();
    if (ps->timed_out)
        co_return done(probe_outcome::connect_timeout, "no connection within " +
                                                           std::to_string(connect_timeout_.count()) + "ms");
    if (ec)
        co_return done(ec == asio::error::connection_refused ? probe_outcome::refused : probe_outcome::reset,
                       ec.message());

    // Seed 004: the TCP handshake alone proves nothing; only a complete 220
    // greeting does.
    arm(timer, banner_timeout_, ps);
    proto::smtp_reply_decoder decoder;
    std::array<char, 1024> buf;
    std::size_t received = 0;
    for (;;) {
        std::size_t n = co_await ps->sock.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
        if (ps->timed_out)
            co_return done(probe_outcome::banner_timeout,
                           "connected, no complete greeting within " + std::to_string(banner_timeout_.count()) +
                               "ms (" + std::to_string(received) + " bytes)");
        if (ec) {
            timer.cancel();
            co_return done(probe_outcome::reset, "closed before the greeting: " + ec.message());
        }
        received += n;
        std::string_view in(buf.data(), n);
        proto::step s = decoder.feed(in);
        if (s == proto::step::need_more)
            continue;
        timer.cancel();
        if (s == proto::step::error)
            co_return done(probe_outcome::garbage, decoder.error().message());
        break;
    }
    const auto& reply = decoder.reply();
    probe_outcome o = reply.code == 220             ? probe_outcome::ok
                      : reply.code / 100 == 4       ? probe_outcome::greeting_4xx
                      : reply.code / 100 == 5       ? probe_outcome::greeting_5xx
                                                    : probe_outcome::garbage;
    if (o == probe_outcome::ok) {
        // Polite goodbye; the answer does not matter, so it is not awaited.
        static constexpr std::string_view quit = "QUIT\r\n";
        co_await asio::async_write(ps->sock, asio::buffer(quit), asio::redirect_error(asio::use_awaitable, ec));
    }
    boost::system::error_code ignored;
    ps->sock.close(ignored);
    co_return done(o, joined(reply));
}

}  // namespace mxw::net
