// mxwarden: the admin CLI. `check`, `route`, `status` and `health` ask the
// running daemon over its control socket, so the answer reflects the
// daemon's own resolver, settings and caches.
#include "cli/control_client.hpp"
#include "cli/doctor.hpp"
#include "cli/health_cli.hpp"
#include "cli/postfix_setup.hpp"
#include "cli/quarantine_cli.hpp"
#include "cli/store_cli.hpp"
#include "cli/web_user_cli.hpp"
#include "base/args.hpp"
#include "base/config.hpp"
#include "proto/control_request.hpp"
#include "proto/endpoint.hpp"
#include "proto/health_report.hpp"

#include <filesystem>
#include <iostream>
#include <sysexits.h>

using namespace mxw;

namespace {

constexpr std::string_view usage = R"(usage: mxwarden [-c FILE] [--section.key=value ...] COMMAND [--json]

commands:
  check sender ADDRESS   run the sender-domain check and show the verdict and DNS evidence
  check client IP        run the client PTR (forward-confirmed) check
  route DOMAIN           the MX set, each address's probe result, and the answer Postfix gets
  status                 daemon counters and cache sizes
  health                 MX hosts and their health, failing destinations, and
                         the last 24 hours of decisions, DNS failures and dead hosts
  quarantine VERB ...    ingest, list, show, cat, release, delete, purge, stats
                         (mxwarden quarantine --help)
  store migrate --from sqlite:PATH [--dry-run]
                         copy a SQLite quarantine into the PostgreSQL store
                         of store.url (mxwarden store --help)
  doctor [--name DOMAIN] which DNS transports work, PTR/HELO, Postfix settings,
                         daemon and quarantine (mxwarden doctor --help)
  postfix-setup [--check | --apply]
                         the main.cf and master.cf settings mxwarden needs
  web-user add|passwd|del|list ...
                         the users of mxwarden-web, the quarantine's web view
                         (mxwarden web-user --help)

The daemon is found through listen.control in the config (-c FILE, default
/etc/mxwarden/mxwarden.conf if it exists, else built-in defaults).
)";

// How long the daemon may take to answer: `status` answers from memory;
// `check` runs its lookups within policy.deadline, and `route` waits for
// resolution and probes within the router's resolve deadline. The margin
// covers a loaded daemon; beyond it the daemon is wedged, and the user is
// told so instead of watching a hung terminal.
std::chrono::milliseconds answer_wait(const proto::control_request& req, const base::config& cfg)
{
    constexpr std::chrono::milliseconds margin{5000};
    using verb = proto::control_request::verb;
    switch (req.what) {
    case verb::check_sender:
    case verb::check_client: return cfg.policy.deadline + margin;
    case verb::route: return cfg.routing.resolve_deadline + margin;
    case verb::ping:
    case verb::status:
    case verb::health: break;
    }
    return margin;
}

}  // namespace

int main(int argc, char** argv)
{
    static constexpr base::arg_option options[] = {{"-h"}, {"--help"}, {"--version"}, {"--json"}};
    auto args = base::arg_views(argc, argv);
    // "quarantine", "store", "doctor", "postfix-setup" and "web-user" take options of their own:
    // only what comes before them is parsed here.
    auto global = base::parse_args(args, {options, base::config_args::all, true});
    if (global.rest < args.size()) {
        std::span<const std::string_view> before(args.data(), global.rest);
        auto after = std::span<const std::string_view>(args).subspan(global.rest + 1);
        if (args[global.rest] == "quarantine")
            return cli::run_quarantine(before, after);
        if (args[global.rest] == "store")
            return cli::run_store(before, after);
        if (args[global.rest] == "doctor")
            return cli::run_doctor(before, after);
        if (args[global.rest] == "postfix-setup")
            return cli::run_postfix_setup(before, after);
        if (args[global.rest] == "web-user")
            return cli::run_web_user(before, after);
    }
    auto cmd = base::parse_args(args, {options});
    if (cmd.has("-h") || cmd.has("--help")) {
        std::cout << usage;
        return 0;
    }
    if (cmd.has("--version")) {
        std::cout << "mxwarden " MXWARDEN_VERSION "\n";
        return 0;
    }
    const auto& p = cmd.positional;
    using verb = proto::control_request::verb;
    proto::control_request request;
    if (p.size() == 3 && p[0] == "check" && (p[1] == "sender" || p[1] == "client")) {
        request = {p[1] == "sender" ? verb::check_sender : verb::check_client, p[2], false};
    } else if (p.size() == 2 && p[0] == "route") {
        request = {verb::route, p[1], false};
    } else if (p.size() == 1 && p[0] == "status") {
        request = {verb::status, "", false};
    } else if (p.size() == 1 && p[0] == "health") {
        request = {verb::health, "", false};
    } else {
        std::cerr << usage;
        return EX_USAGE;
    }
    if (request.what != verb::status && request.what != verb::health && !proto::control_subject_ok(request.subject))
        cmd.errors.push_back(std::string(request.what == verb::route ? "the domain" : "the address") +
                             " must be one word of at most " + std::to_string(proto::max_control_subject_bytes) +
                             " bytes, without control characters");
    request.json = cmd.has("--json");

    auto [loaded, cfg, errors] =
        base::load_config(cmd.config_file, cmd.overrides, std::filesystem::current_path().string(), cmd.errors);
    if (!cfg) {
        for (const auto& e : errors)
            std::cerr << "mxwarden: " << e << "\n";
        return EX_CONFIG;
    }

    const auto& where = cfg->listen_control;
    try {
        // A local socket connects at once; five seconds is a daemon too
        // busy to accept.
        // A health report of thousands of hosts is longer than other
        // answers; its codec bounds it.
        const bool health = request.what == verb::health;
        std::string response =
            cli::ask_control(where, request, std::chrono::seconds(5), answer_wait(request, *cfg),
                             health ? proto::max_health_report_bytes : cli::max_control_answer_bytes);
        if (response.starts_with("error: ")) {
            std::cerr << "mxwarden: daemon says " << response;
            return EX_SOFTWARE;
        }
        if (health) {
            auto report = proto::decode_health_report(response);
            if (!report) {
                std::cerr << "mxwarden: the health report from mxwardend at " << proto::to_string(where)
                          << " is malformed\n";
                return EX_PROTOCOL;
            }
            std::cout << (cmd.has("--json") ? cli::format_health_json(*report) : cli::format_health_text(*report));
            return 0;
        }
        std::cout << response;
    } catch (const cli::control_timeout& e) {
        std::cerr << "mxwarden: " << e.what() << "\n";
        return EX_TEMPFAIL;
    } catch (const std::exception& e) {
        std::cerr << "mxwarden: cannot reach mxwardend at " << proto::to_string(where) << ": " << e.what()
                  << "\n(is mxwardend running with the same config? start it, or pass -c FILE)\n";
        return EX_UNAVAILABLE;
    }
    return 0;
}
