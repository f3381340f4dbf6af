// web/http_server in process, over a unix socket: what the pages receive
// (decoded path, raw query, joined cookies, bare media type, origin, body,
// peer), what the browser gets back (the page's own headers, the security
// headers, HEAD without a body), and a page that throws or sends a header
// with a line break: 500 (503 for a transient store error) and the server
// goes on. The HTTP limits are tested on the real binary
// (tests/integration/web_http_test.sh).
#include "web/http_server.hpp"

#include "base/logging.hpp"
#include "store/error.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>

#include <unistd.h>

namespace asio = mxw::asio;
namespace web = mxw::web;
using unix_socket = asio::local::stream_protocol::socket;

namespace {

struct store_busy final : mxw::store::store_error {
    using store_error::store_error;
    [[nodiscard]] bool transient() const noexcept override { return true; }
};

class recording_handler final : public web::handler {
public:
    web::response handle(const web::request& r, std::int64_t now) override
    {
        last = r;
        last_now = now;
        if (r.path == "/boom")
            throw std::runtime_error("boom");
        if (r.path == "/busy")
            throw store_busy("database is locked");
        web::response out;
        if (r.path == "/inject") {
            out.headers.emplace_back("Location", "/x\r\nSet-Cookie: evil=1");
            return out;
        }
        out.headers.emplace_back("Set-Cookie", "a=1; HttpOnly");
        out.headers.emplace_back("Set-Cookie", "b=2; HttpOnly");
        out.body = "hello";
        return out;
    }
    web::request last;
    std::int64_t last_now = 0;
};

// One server on its own loop thread, for one test case.
struct running_server {
    running_server()
        : path((std::filesystem::temp_directory_path() / ("mxw-http-" + std::to_string(::getpid()) + ".sock")).string())
    {
        server.listen(mxw::proto::endpoint{mxw::proto::endpoint::kind::unix_socket, "", 0, path});
        loop = std::thread([this] { io.run(); });
    }
    ~running_server()
    {
        io.stop();
        loop.join();
        std::filesystem::remove(path);
    }

    /// Sends `request`, returns all the server sends until it closes.
    std::string exchange(const std::string& request)
    {
        asio::io_context client;
        unix_socket s(client);
        s.connect(asio::local::stream_protocol::endpoint(path));
        asio::write(s, asio::buffer(request));
        std::string out;
        boost::system::error_code ec;
        asio::read(s, asio::dynamic_buffer(out), ec);
        return out;
    }

    std::string path;
    asio::io_context io{1};
    mxw::base::logger log{false, "http_server_test", mxw::base::log_level::error};
    recording_handler pages;
    web::http_server server{io, pages, log};
    std::thread loop;
};

}  // namespace

TEST_CASE("http_server: the page gets the request checked and decoded", "[web][http_server]")
{
    running_server s;
    std::string resp = s.exchange("POST /entry%20list?q=a+b%26c HTTP/1.1\r\nHost: x\r\n"
                                  "Cookie: sid=abc\r\nCookie: theme=dark\r\n"
                                  "Content-Type: Application/X-WWW-Form-URLencoded ; charset=UTF-8\r\n"
                                  "Origin: http://127.0.0.1:10044\r\nContent-Length: 7\r\n"
                                  "Connection: close\r\n\r\nid=1&x=");
    const auto& r = s.pages.last;
    CHECK(r.method == "POST");
    CHECK(r.path == "/entry list");
    CHECK(r.query == "q=a+b%26c");
    CHECK(r.cookie == "sid=abc; theme=dark");
    CHECK(r.content_type == "application/x-www-form-urlencoded");
    CHECK(r.origin == "http://127.0.0.1:10044");
    CHECK(r.body == "id=1&x=");
    CHECK(r.peer == "unix");
    CHECK(s.pages.last_now > 1'700'000'000);

    CHECK(resp.starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(resp.find("\r\nSet-Cookie: a=1; HttpOnly\r\n") != std::string::npos);
    CHECK(resp.find("\r\nSet-Cookie: b=2; HttpOnly\r\n") != std::string::npos);
    CHECK(resp.find("\r\nServer: mxwarden-web\r\n") != std::string::npos);
    CHECK(resp.find("\r\nContent-Length: 5\r\n") != std::string::npos);
    for (const auto& [name, value] : web::security_headers())
        CHECK(resp.find("\r\n" + std::string(name) + ": " + std::string(value) + "\r\n") != std::string::npos);
    CHECK(resp.ends_with("\r\n\r\nhello"));
}

TEST_CASE("http_server: HEAD is GET without the body", "[web][http_server]")
{
    running_server s;
    std::string resp = s.exchange("HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CHECK(s.pages.last.method == "HEAD");
    CHECK(resp.starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(resp.find("\r\nContent-Length: 5\r\n") != std::string::npos);
    CHECK(resp.ends_with("\r\n\r\n"));
}

TEST_CASE("http_server: a page that fails gets 500 or 503, and the server goes on", "[web][http_server]")
{
    running_server s;
    std::string boom = s.exchange("GET /boom HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CHECK(boom.starts_with("HTTP/1.1 500 "));
    CHECK(boom.find("boom") == std::string::npos);  // the exception's text is logged, not shown
    CHECK(boom.find("Content-Security-Policy: ") != std::string::npos);
    CHECK(s.exchange("GET /busy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").starts_with("HTTP/1.1 503 "));
    std::string inject = s.exchange("GET /inject HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CHECK(inject.starts_with("HTTP/1.1 500 "));
    CHECK(inject.find("evil") == std::string::npos);
    CHECK(s.exchange("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").starts_with("HTTP/1.1 200 OK\r\n"));
}

TEST_CASE("media_type: the type alone, lower case", "[web][http_server]")
{
    CHECK(web::media_type("Text/HTML; charset=UTF-8") == "text/html");
    CHECK(web::media_type("  application/x-www-form-urlencoded\t") == "application/x-www-form-urlencoded");
    CHECK(web::media_type("multipart/form-data;boundary=x") == "multipart/form-data");
    CHECK(web::media_type("") == "");
}
