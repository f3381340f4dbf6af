// The CLI's control client against fake daemons on a unix socket: one that
// accepts and never answers must cost a clear timeout error within the
// deadline, not a hang; one that answers is read to the end.
#include "cli/control_client.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

using namespace mxw;
using namespace std::chrono_literals;

namespace {

// A listening unix socket in a fresh directory, closed and removed at the end.
struct fake_daemon {
    std::filesystem::path dir;
    std::string path;
    int fd = -1;

    fake_daemon()
    {
        std::string tmpl = (std::filesystem::temp_directory_path() / "mxw-control-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()));
        dir = tmpl;
        path = (dir / "control.sock").string();
        fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd >= 0);
        sockaddr_un sun{};
        sun.sun_family = AF_UNIX;
        std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) == 0);
        REQUIRE(::listen(fd, 4) == 0);
    }
    ~fake_daemon()
    {
        ::close(fd);
        std::filesystem::remove_all(dir);
    }
    proto::endpoint where() const { return {proto::endpoint::kind::unix_socket, "", 0, path}; }
};

}  // namespace

TEST_CASE("control client: a daemon that accepts and never answers times out with a clear message", "[control]")
{
    fake_daemon d;
    int held = -1;
    std::thread acceptor([&] { held = ::accept(d.fd, nullptr, nullptr); });
    auto start = std::chrono::steady_clock::now();
    proto::control_request req{proto::control_request::verb::status, "", false};
    try {
        cli::ask_control(d.where(), req, 1s, 300ms);
        FAIL("no timeout");
    } catch (const cli::control_timeout& e) {
        CHECK(std::string(e.what()) == "mxwardend did not answer on unix:" + d.path + " within 300ms");
    }
    auto took = std::chrono::steady_clock::now() - start;
    CHECK(took >= 300ms);
    CHECK(took < 3s);
    acceptor.join();
    ::close(held);
}

TEST_CASE("control client: sends the encoded request and reads the answer to the end", "[control]")
{
    fake_daemon d;
    std::string got;
    std::thread server([&] {
        int c = ::accept(d.fd, nullptr, nullptr);
        char buf[256];
        while (got.find('\n') == std::string::npos) {
            ssize_t n = ::read(c, buf, sizeof buf);
            if (n <= 0)
                break;
            got.append(buf, static_cast<std::size_t>(n));
        }
        std::string answer = "domain: example.org\nanswer: NOTFOUND\n";
        CHECK(::write(c, answer.data(), answer.size()) == static_cast<ssize_t>(answer.size()));
        ::close(c);
    });
    proto::control_request req{proto::control_request::verb::route, "example.org", true};
    auto answer = cli::ask_control(d.where(), req, 1s, 2s);
    server.join();
    CHECK(got == "route example.org json\n");
    CHECK(answer == "domain: example.org\nanswer: NOTFOUND\n");
}

TEST_CASE("control client: no daemon, or one that hangs up, is unreachable, not a timeout", "[control]")
{
    proto::control_request req{proto::control_request::verb::status, "", false};
    proto::endpoint nowhere{proto::endpoint::kind::unix_socket, "", 0, "/nonexistent/mxw-control.sock"};
    CHECK_THROWS_AS(cli::ask_control(nowhere, req, 1s, 1s), cli::control_unreachable);

    fake_daemon d;
    std::thread server([&] { ::close(::accept(d.fd, nullptr, nullptr)); });
    CHECK_THROWS_AS(cli::ask_control(d.where(), req, 1s, 1s), cli::control_unreachable);
    server.join();
}

TEST_CASE("control client: waits are spelled in whole seconds when they are", "[control]")
{
    CHECK(cli::format_wait(5000ms) == "5s");
    CHECK(cli::format_wait(1500ms) == "1500ms");
}

TEST_CASE("control client: the answer cap is the caller's, checked at one past it", "[control]")
{
    // `health` passes its report's cap, far above the default.
    auto serve = [](fake_daemon& d, std::size_t bytes) {
        return std::thread([&d, bytes] {
            int c = ::accept(d.fd, nullptr, nullptr);
            char buf[64];
            ssize_t got = ::read(c, buf, sizeof buf);  // the request line
            (void)got;
            std::string answer(bytes, 'x');
            std::size_t off = 0;
            while (off < answer.size()) {
                // The client hangs up on an answer over its cap: no SIGPIPE.
                ssize_t n = ::send(c, answer.data() + off, answer.size() - off, MSG_NOSIGNAL);
                if (n <= 0)
                    break;
                off += static_cast<std::size_t>(n);
            }
            ::close(c);
        });
    };
    proto::control_request req{proto::control_request::verb::health, "", false};
    constexpr std::size_t cap = 3 * cli::max_control_answer_bytes;
    {
        fake_daemon d;
        auto server = serve(d, cap);
        CHECK(cli::ask_control(d.where(), req, 1s, 5s, cap).size() == cap);
        server.join();
    }
    {
        fake_daemon d;
        auto server = serve(d, cap + 1);
        CHECK_THROWS_WITH(cli::ask_control(d.where(), req, 1s, 5s, cap),
                          Catch::Contains("longer than " + std::to_string(cap) + " bytes"));
        server.join();
    }
}
