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
#include "cli/control_client.hpp"
#include "cli/release.hpp"
#include "proto/health_report.hpp"
#include "store/open_store.hpp"
#include "web/app.hpp"
#include "web/http_server.hpp"
#include "web/users_file.hpp"
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

// What the pages hold between requests, and how they reach the rest of
// mxwarden: the store (opened per request, so a PostgreSQL restart or a
// SQLite file created by the first ingest is simply seen at the next
// page), the users file (re-read when it changes), mxwardend's control
// socket for the health report, and the CLI's release.
class web_pages final : public web::handler {
public:
    explicit web_pages(const base::config& cfg)
        : cfg_(cfg),
          sessions_(cfg.web.session_idle.count(), cfg.web.session_max.count(), max_sessions),
          limiter_(max_login_failures, login_window_seconds, max_limiter_keys),
          users_(cfg.web.users)
    {
        web::app_options opt;
        opt.session_max_seconds = cfg.web.session_max.count();
        opt.login_retry_after_seconds = login_window_seconds;
        app_ = std::make_unique<web::app>(
            web::app_deps{[this] { return open_store(); }, [this] { return users_.current(); },
                          [this] { return health(); },
                          [this](std::int64_t id, const std::string& by) { return release(id, by); }},
            sessions_, limiter_, opt);
    }

    web::response handle(const web::request& r, std::int64_t now) override { return app_->handle(r, now); }

private:
    // Reviewers are a handful of people; 10 000 sessions bound the memory a
    // script logging in over and over can take, the oldest go first.
    static constexpr std::size_t max_sessions = 10000;
    // Five wrong passwords per address or name in five minutes, then a 429
    // until the window ends: slow enough to stop guessing, short enough not
    // to lock a fumbling reviewer out for long.
    static constexpr std::size_t max_login_failures = 5;
    static constexpr std::int64_t login_window_seconds = 300;
    static constexpr std::size_t max_limiter_keys = 10000;
    // The health page waits at most this long for mxwardend; it runs on the
    // server's one thread, so a hung daemon costs one slow page, not a hung
    // server.
    static constexpr std::chrono::milliseconds control_connect{1000};
    static constexpr std::chrono::milliseconds control_answer{3000};

    std::unique_ptr<store::quarantine> open_store()
    {
        return store::open_quarantine({cfg_.quarantine.database, cfg_.store.url, cfg_.store.node},
                                      store::open_mode::existing);
    }

    std::optional<proto::health_report> health()
    {
        try {
            auto text = cli::ask_control(cfg_.listen_control, {proto::control_request::verb::health, "", false},
                                         control_connect, control_answer, proto::max_health_report_bytes);
            return proto::decode_health_report(text);
        } catch (const std::exception&) {
            return std::nullopt;  // the page says the daemon cannot be reached
        }
    }

    web::release_outcome release(std::int64_t id, const std::string& by)
    {
        auto qs = open_store();
        if (!qs)
            return {false, "no quarantine entry " + std::to_string(id)};
        auto r = cli::release_entry(*qs, id, cfg_, by, false);
        return {r.what == cli::release_outcome::kind::released, r.message};
    }

    const base::config& cfg_;
    web::session_table sessions_;
    web::login_limiter limiter_;
    web::users_file users_;
    std::unique_ptr<web::app> app_;
};

std::unique_ptr<web::handler> make_handler(const base::config& cfg)
{
    return std::make_unique<web_pages>(cfg);
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
