#include "web/http_server.hpp"

#include "proto/http_target.hpp"
#include "proto/limits.hpp"
#include "proto/sanitize.hpp"
#include "store/error.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <cstdint>
#include <ctime>
#include <unordered_set>
#include <vector>

namespace mxw::web {
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

using clock = std::chrono::steady_clock;

constexpr std::array<std::pair<std::string_view, std::string_view>, 8> security_header_list{{
    // No script at all, styles and images from our own /static/ only, and
    // forms post back to us: a message's HTML that slipped through escaping
    // still could not run, load or send anything.
    {"Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                                "frame-ancestors 'none'; base-uri 'none'"},
    {"X-Content-Type-Options", "nosniff"},
    {"X-Frame-Options", "DENY"},
    // Nothing about a page (an entry's id, a search) reaches another site.
    // Not no-referrer: with it, browsers send "Origin: null" on our own
    // form posts, and the pages check Origin against login CSRF.
    {"Referrer-Policy", "same-origin"},
    // Quarantined mail is personal data: no browser or proxy keeps a copy.
    {"Cache-Control", "no-store"},
    {"Cross-Origin-Opener-Policy", "same-origin"},
    {"Cross-Origin-Resource-Policy", "same-origin"},
    {"Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"},
}};

// Connections past max_connections that are still told 503 before they
// are closed; past these the listener closes them without a word, so a
// flood costs no more than an accept and a close each.
constexpr std::size_t refusal_slots = 16;
// After an error answer the client may still be sending (the body we
// refused); reading it away for a moment lets the answer arrive instead of
// a reset.
constexpr std::chrono::milliseconds linger_timeout{1000};
constexpr std::size_t max_linger_bytes = 256 * 1024;
// Writing an error answer: a few hundred bytes.
constexpr std::chrono::milliseconds error_write_timeout{2000};

beast::string_view bsv(std::string_view s) { return {s.data(), s.size()}; }
std::string_view ssv(beast::string_view s) { return {s.data(), s.size()}; }

bool header_safe(std::string_view s)
{
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

response text_page(unsigned status, std::string_view what)
{
    response r;
    r.status = status;
    r.content_type = "text/plain; charset=utf-8";
    r.body = std::to_string(status) + " " + std::string(ssv(http::obsolete_reason(http::int_to_status(status)))) +
             (what.empty() ? std::string() : ": " + std::string(what)) + "\n";
    return r;
}

std::string peer_of(asio::ip::tcp::socket& s)
{
    boost::system::error_code ec;
    auto ep = s.remote_endpoint(ec);
    return ec ? std::string("unknown") : ep.address().to_string();
}

std::string peer_of(asio::local::stream_protocol::socket&) { return "unix"; }

struct connection_base {
    virtual ~connection_base() = default;
    virtual void close_if_idle() = 0;
    virtual void detach() = 0;
};

}  // namespace

std::span<const std::pair<std::string_view, std::string_view>> security_headers() noexcept
{
    return security_header_list;
}

std::string media_type(std::string_view content_type)
{
    auto end = content_type.find(';');
    std::string_view t = content_type.substr(0, end);
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t'))
        t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t'))
        t.remove_suffix(1);
    return proto::to_lower(t);
}

struct http_server::impl {
    impl(asio::io_context& i, handler& hd, base::logger& l, server_limits lim)
        : io(i), h(hd), log(l), limits(lim), count{lim.max_connections + refusal_slots, 0}
    {
    }

    ~impl()
    {
        // Session frames may outlive us inside the io_context; they must
        // not reach back.
        for (auto* c : conns)
            c->detach();
    }

    template <class Socket>
    asio::awaitable<void> session(Socket sock);

    response call_handler(const request& r);
    void log_request(std::string_view method, std::string_view path, unsigned status, std::size_t bytes,
                     clock::time_point start, const std::string& peer);

    asio::io_context& io;
    handler& h;
    base::logger& log;
    server_limits limits;
    net::connection_count count;
    std::vector<std::unique_ptr<net::listener>> listeners;
    std::unordered_set<connection_base*> conns;
    bool stopping = false;
    std::uint64_t refused = 0;
};

namespace {

// One connection's socket and its deadline. The deadline cancels the
// socket's operations (it does not close it), so a 408 can still be sent;
// `timed_out` tells that cancel from a drain's. Shared: the timer's handler
// may run after the session's frame has ended.
template <class Socket>
struct connection final : connection_base, std::enable_shared_from_this<connection<Socket>> {
    connection(Socket s, http_server::impl* o) : sock(std::move(s)), timer(sock.get_executor()), owner(o)
    {
        owner->conns.insert(this);
    }
    ~connection() override
    {
        if (owner)
            owner->conns.erase(this);
    }

    void close_if_idle() override
    {
        if (idle) {
            boost::system::error_code ignored;
            sock.cancel(ignored);
        }
    }
    void detach() override { owner = nullptr; }

    void arm(clock::time_point at)
    {
        timed_out = false;
        timer.expires_at(at);
        timer.async_wait([w = this->weak_from_this()](boost::system::error_code ec) {
            auto self = w.lock();
            // A handler that was already queued when the timer was re-armed
            // still runs with success: only a deadline really past counts.
            if (ec || !self || clock::now() < self->timer.expiry())
                return;
            self->timed_out = true;
            boost::system::error_code ignored;
            self->sock.cancel(ignored);
        });
    }

    Socket sock;
    asio::steady_timer timer;
    http_server::impl* owner;  // null once the server is gone
    bool idle = true;          // waiting for the first byte of a request
    bool timed_out = false;
};

http::response<http::string_body> make_response(response&& out, bool head, bool keep_alive)
{
    http::response<http::string_body> res;
    res.version(11);
    res.result(out.status);
    res.set(http::field::server, "mxwarden-web");
    res.set(http::field::content_type, bsv(out.content_type));
    for (const auto& [name, value] : security_header_list)
        res.set(bsv(name), bsv(value));
    for (const auto& [name, value] : out.headers)
        res.insert(bsv(name), bsv(value));  // insert: Set-Cookie may repeat
    res.keep_alive(keep_alive);
    // HEAD: the length GET would have, and no body (RFC 9110 §9.3.2).
    res.content_length(out.body.size());
    if (!head)
        res.body() = std::move(out.body);
    return res;
}

// 0: nothing worth an answer (the client went away, or a drain cancelled
// the wait).
unsigned status_for(const boost::system::error_code& ec, bool timed_out)
{
    if (timed_out)
        return 408;
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow)
        return 431;
    if (ec == http::error::body_limit)
        return 413;
    if (ec == http::error::end_of_stream || ec == http::error::partial_message)
        return 0;
    if (ec.category() == http::make_error_code(http::error::bad_method).category())
        return 400;
    return 0;
}

}  // namespace

response http_server::impl::call_handler(const request& r)
{
    auto failed = [&](std::string_view why, unsigned status) {
        log.error("event=web-handler-failed path=" + proto::log_value(r.path) + " status=" + std::to_string(status) +
                  " error=" + proto::log_value(why));
        return text_page(status, status == 503 ? "try again in a moment" : "internal error");
    };
    response out;
    try {
        out = h.handle(r, static_cast<std::int64_t>(std::time(nullptr)));
    } catch (const store::store_error& e) {
        return failed(e.what(), e.transient() ? 503 : 500);
    } catch (const std::exception& e) {
        return failed(e.what(), 500);
    }
    // A CR or LF in a header would let a value a page copied from a request
    // start headers of its own: a bug in a page, never sent.
    if (out.status < 200 || out.status > 599 || !header_safe(out.content_type))
        return failed("bad status or content type from the page", 500);
    for (const auto& [name, value] : out.headers)
        if (name.empty() || !header_safe(name) || !header_safe(value) || name.find(':') != std::string::npos)
            return failed("bad header from the page: " + name, 500);
    return out;
}

void http_server::impl::log_request(std::string_view method, std::string_view path, unsigned status, std::size_t bytes,
                                    clock::time_point start, const std::string& peer)
{
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - start).count();
    std::string line = "event=request method=";
    proto::log_value_into(line, method, 16);
    line += " path=";
    proto::log_value_into(line, path);
    line += " status=" + std::to_string(status) + " bytes=" + std::to_string(bytes) + " ms=" + std::to_string(ms) +
            " peer=";
    proto::log_value_into(line, peer, 64);
    log.write(status >= 500 ? base::log_level::warning : base::log_level::info, line);
}

template <class Socket>
asio::awaitable<void> http_server::impl::session(Socket sock)
{
    auto c = std::make_shared<connection<Socket>>(std::move(sock), this);
    const std::string peer = peer_of(c->sock);
    boost::system::error_code ec;
    auto redirect = [&ec] { return asio::redirect_error(asio::use_awaitable, ec); };

    // An error answer ends the connection: what follows on it cannot be
    // framed any more (an unread body, a broken head).
    auto answer_and_close = [&](response page, std::string_view method, std::string_view path,
                                clock::time_point start) -> asio::awaitable<void> {
        std::size_t bytes = page.body.size();
        unsigned status = page.status;
        auto res = make_response(std::move(page), method == "HEAD", false);
        c->arm(clock::now() + error_write_timeout);
        co_await http::async_write(c->sock, res, redirect());
        log_request(method, path, status, bytes, start, peer);
        if (ec || c->timed_out)
            co_return;
        c->sock.shutdown(asio::socket_base::shutdown_send, ec);
        c->arm(clock::now() + linger_timeout);
        std::array<char, 4096> discard;
        for (std::size_t total = 0; total < max_linger_bytes;) {
            total += co_await c->sock.async_read_some(asio::buffer(discard), redirect());
            if (ec || c->timed_out)
                break;
        }
    };

    if (count.active > limits.max_connections) {
        if (refused++ % 1000 == 0)
            log.warning("event=connection-refused listener=web reason=max-connections max=" +
                        std::to_string(limits.max_connections) + " refused=" + std::to_string(refused));
        response busy = text_page(503, "too many connections, try again in a moment");
        busy.headers.emplace_back("Retry-After", "1");
        co_await answer_and_close(std::move(busy), "-", "-", clock::now());
        co_return;
    }

    // Never more than one request head, and whatever of the next one a
    // pipelining client sent along with it.
    beast::flat_buffer buf(2 * proto::max_http_head_bytes);
    for (std::size_t served = 0; served < limits.max_requests_per_connection; ++served) {
        if (buf.size() == 0) {
            // A new connection gets head_timeout for its first byte, a kept
            // one idle_timeout; running out of either is no request at all,
            // so the connection just closes (RFC 9112 §9.6).
            c->idle = true;
            if (stopping)
                co_return;
            c->arm(clock::now() + (served == 0 ? limits.head_timeout : limits.idle_timeout));
            co_await c->sock.async_wait(asio::socket_base::wait_read, redirect());
            c->idle = false;
            if (ec || c->timed_out || stopping)
                co_return;
        }
        c->idle = false;
        const auto start = clock::now();
        // Head and body have one deadline each, counted from the first byte:
        // a client sending a byte now and then (slowloris) is cut off all
        // the same.
        c->arm(start + limits.head_timeout);
        http::request_parser<http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(proto::max_http_head_bytes));
        parser.body_limit(proto::max_form_bytes);
        co_await http::async_read_header(c->sock, buf, parser, redirect());
        if (ec || c->timed_out) {
            if (unsigned status = status_for(ec, c->timed_out))
                co_await answer_and_close(text_page(status, ""), "-", "-", start);
            co_return;
        }
        auto& req = parser.get();
        const std::string method(ssv(req.method_string()));
        const std::string raw_target(ssv(req.target()));
        if (method != "GET" && method != "HEAD" && method != "POST") {
            response page = text_page(405, "");
            page.headers.emplace_back("Allow", "GET, HEAD, POST");
            co_await answer_and_close(std::move(page), method, raw_target, start);
            co_return;
        }
        proto::http_target target;
        switch (proto::parse_target(raw_target, target)) {
        case proto::target_check::ok: break;
        case proto::target_check::too_long:
            co_await answer_and_close(text_page(414, ""), method, raw_target, start);
            co_return;
        case proto::target_check::not_origin_form:
        case proto::target_check::bad_escape:
        case proto::target_check::unsafe_path:
            co_await answer_and_close(text_page(400, "bad request target"), method, raw_target, start);
            co_return;
        }
        if (!parser.is_done()) {
            // curl asks before sending a large body; browsers never do.
            if (proto::to_lower(ssv(req[http::field::expect])) == "100-continue") {
                static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
                co_await asio::async_write(c->sock, asio::buffer(go_on.data(), go_on.size()), redirect());
                if (ec || c->timed_out)
                    co_return;
            }
            c->arm(start + limits.request_timeout);
            co_await http::async_read(c->sock, buf, parser, redirect());
            if (ec || c->timed_out) {
                if (unsigned status = status_for(ec, c->timed_out))
                    co_await answer_and_close(text_page(status, ""), method, target.path, start);
                co_return;
            }
        }

        request r;
        r.method = method;
        r.path = std::move(target.path);
        r.query = std::move(target.query);
        for (auto [f, end] = req.equal_range(http::field::cookie); f != end; ++f) {
            if (!r.cookie.empty())
                r.cookie += "; ";
            r.cookie += ssv(f->value());
        }
        r.content_type = media_type(ssv(req[http::field::content_type]));
        r.origin = std::string(ssv(req[http::field::origin]));
        r.host = std::string(ssv(req[http::field::host]));
        r.body = std::move(req.body());
        r.peer = peer;
        const bool keep_alive =
            req.keep_alive() && !stopping && served + 1 < limits.max_requests_per_connection;

        response out = call_handler(r);
        const unsigned status = out.status;
        const std::size_t bytes = method == "HEAD" ? 0 : out.body.size();
        auto res = make_response(std::move(out), method == "HEAD", keep_alive && !stopping);
        c->arm(clock::now() + limits.write_timeout);
        co_await http::async_write(c->sock, res, redirect());
        log_request(method, r.path, status, bytes, start, peer);
        if (ec || c->timed_out || !res.keep_alive())
            break;
    }
    c->sock.shutdown(asio::socket_base::shutdown_both, ec);
}

http_server::http_server(asio::io_context& io, handler& h, base::logger& log, server_limits limits)
    : impl_(std::make_unique<impl>(io, h, log, limits))
{
}

http_server::~http_server() = default;

void http_server::listen(const proto::endpoint& where)
{
    impl* s = impl_.get();
    impl_->listeners.push_back(net::start_listener(
        s->io, where, "web", [s](asio::ip::tcp::socket sock) { return s->session(std::move(sock)); },
        [s](asio::local::stream_protocol::socket sock) { return s->session(std::move(sock)); }, s->count, s->log));
}

void http_server::stop()
{
    impl_->stopping = true;
    for (auto& l : impl_->listeners)
        l->close();
    for (auto* c : impl_->conns)
        c->close_if_idle();
}

std::size_t http_server::active() const noexcept { return impl_->count.active; }

}  // namespace mxw::web
