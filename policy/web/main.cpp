// mxwarden-web: the quarantine and health pages in a browser. Wiring only:
// the config, the logger, the handler with the pages (make_handler), and
// web::http_server on one io_context thread. SIGTERM and SIGINT stop
// accepting and let requests in flight finish for daemon.drain-timeout.
#include "base/args.hpp"
#include "base/config.hpp"
#include "base/logging.hpp"
#include "net/asio.hpp"
#include "proto/endpoint.hpp"
#include "proto/sanitize.hpp"
#include "web/http_server.hpp"
#include "web/http_types.hpp"

#include <chrono>
#include <csignal>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>

#include <sysexits.h>

using namespace mxw;

namespace {

constexpr std::string_view usage = R"(usage: mxwarden-web [-c FILE] [--section.key=value ...] [--check-config]

Serves mxwarden's quarantine and host health to a browser, on listen.web
(default inet:127.0.0.1:10044). Put a TLS reverse proxy in front of it for
anything but loopback.

  -c FILE          configuration file (default /etc/mxwarden/mxwarden.conf)
  --section.key=V  override one configuration key
  --check-config   validate the configuration and exit (0 ok, 78 invalid)
  --version        print the version
)";

// Until the pages exist: a page that says who answers, so the server, its
// headers and its limits can be run and tested on their own.
class placeholder_handler final : public web::handler {
public:
    web::response handle(const web::request& r, std::int64_t) override
    {
        web::response out;
        if (r.path != "/") {
            out.status = 404;
            out.content_type = "text/plain; charset=utf-8";
            out.body = "404 Not Found\n";
            return out;
        }
        out.body = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>mxwarden-web</title>"
                   "</head><body><h1>mxwarden-web</h1></body></html>\n";
        return out;
    }
};

// The one place the web view's pages are created.
std::unique_ptr<web::handler> make_handler(const base::config&)
{
    return std::make_unique<placeholder_handler>();
}

bool is_loopback(const proto::endpoint& e)
{
    if (e.type == proto::endpoint::kind::unix_socket)
        return true;
    boost::system::error_code ec;
    auto a = asio::ip::make_address(e.host, ec);
    return !ec && a.is_loopback();
}

}  // namespace

int main(int argc, char** argv)
{
    static constexpr base::arg_option options[] = {{"-h"}, {"--help"}, {"--version"}, {"--check-config"}};
    auto args = base::arg_views(argc, argv);
    auto cmd = base::parse_args(args, {options});
    if (cmd.has("-h") || cmd.has("--help")) {
        std::cout << usage;
        return 0;
    }
    if (cmd.has("--version")) {
        std::cout << "mxwarden-web " MXWARDEN_VERSION "\n";
        return 0;
    }
    if (!cmd.positional.empty())
        cmd.errors.push_back("unexpected argument '" + proto::sanitize(cmd.positional.front()) + "'");
    const std::string start_dir = std::filesystem::current_path().string();
    auto start = base::load_config(cmd.config_file, cmd.overrides, start_dir, cmd.errors);
    if (!start.cfg) {
        for (const auto& e : start.errors)
            std::cerr << "mxwarden-web: config: " << e << "\n";
        return EX_CONFIG;
    }
    const base::config& cfg = *start.cfg;
    const std::string where = proto::to_string(cfg.web.listen);
    if (cmd.has("--check-config")) {
        if (!is_loopback(cfg.web.listen))
            std::cerr << "mxwarden-web: config: warning: listen.web = " << where
                      << " is not loopback: put it behind a TLS reverse proxy\n";
        std::cout << "mxwarden-web: configuration OK ("
                  << (start.raw.file.empty() ? std::string("built-in defaults") : start.raw.file) << ")\n";
        return 0;
    }

    base::logger log(cfg.log_syslog, "mxwarden-web", cfg.log_level);
    ::signal(SIGPIPE, SIG_IGN);  // a browser that goes away costs a write error, not the server
    asio::io_context io(1);
    log.set_scheduler([&io](std::function<void()> f) { asio::post(io, std::move(f)); });

    std::unique_ptr<web::handler> pages = make_handler(cfg);
    web::http_server server(io, *pages, log);
    try {
        server.listen(cfg.web.listen);
    } catch (const std::system_error& e) {
        std::cerr << "mxwarden-web: " << e.what() << "\n";
        return EX_UNAVAILABLE;
    }
    // Passwords and session cookies cross this socket in clear.
    if (!is_loopback(cfg.web.listen))
        log.warning("event=config-warning warning=" +
                    proto::log_value("listen.web = " + where + " is not loopback: put it behind a TLS reverse proxy"));

    // After SIGTERM: wait for the busy connections to answer, up to the
    // drain timeout; once none is left nothing holds the loop and run()
    // returns.
    asio::steady_timer drain_timer(io);
    auto give_up = std::chrono::steady_clock::time_point::max();
    bool draining = false;
    std::function<void()> drain_wait = [&] {
        if (server.active() == 0)
            return;
        if (std::chrono::steady_clock::now() >= give_up) {
            log.warning("event=drain-timeout in-flight-connections=" + std::to_string(server.active()));
            io.stop();
            return;
        }
        drain_timer.expires_after(std::chrono::milliseconds(50));
        drain_timer.async_wait([&](boost::system::error_code ec) {
            if (!ec)
                drain_wait();
        });
    };
    asio::signal_set stop_signals(io, SIGINT, SIGTERM);
    stop_signals.async_wait([&](boost::system::error_code ec, int sig) {
        if (ec)
            return;
        draining = true;
        log.info("event=stop signal=" + std::to_string(sig) + " in-flight-connections=" +
                 std::to_string(server.active()) + " drain-timeout-ms=" + std::to_string(cfg.drain_timeout.count()));
        server.stop();
        give_up = std::chrono::steady_clock::now() + cfg.drain_timeout;
        drain_wait();
    });

    log.info("event=ready version=" MXWARDEN_VERSION " listen=" + proto::log_value(where) +
             " users=" + proto::log_value(cfg.web.users) + " config=" +
             proto::log_value(start.raw.file.empty() ? "built-in-defaults" : start.raw.file));
    log.flush();
    io.run();
    log.info(draining ? "event=stopped" : "event=stopped reason=loop-ended");
    log.flush();
    return 0;
}
