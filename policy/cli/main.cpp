// mxwarden: the admin CLI. `check` and `status` ask the running daemon over
// its control socket, so the answer reflects the daemon's own resolver,
// settings and caches.
#include "cli/doctor.hpp"
#include "cli/postfix_setup.hpp"
#include "cli/quarantine_cli.hpp"
#include "base/config.hpp"
#include "net/asio.hpp"
#include "proto/endpoint.hpp"

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
  quarantine VERB ...    ingest, list, show, cat, release, delete, purge, stats
                         (mxwarden quarantine --help)
  doctor [--name DOMAIN] which DNS transports work, PTR/HELO, Postfix settings,
                         daemon and quarantine (mxwarden doctor --help)
  postfix-setup [--check | --apply]
                         the main.cf and master.cf settings mxwarden needs

The daemon is found through listen.control in the config (-c FILE, default
/etc/mxwarden/mxwarden.conf if it exists, else built-in defaults).
)";

template <class Protocol>
std::string ask(typename Protocol::socket& sock, typename Protocol::endpoint ep, const std::string& request)
{
    sock.connect(ep);
    asio::write(sock, asio::buffer(request));
    std::string response;
    boost::system::error_code ec;
    asio::read(sock, asio::dynamic_buffer(response, 1 << 20), ec);
    if (ec && ec != asio::error::eof)
        throw boost::system::system_error(ec);
    return response;
}

// Where `verb` stands, if it is the verb: "quarantine" and "doctor" take
// options of their own, so only what comes before them is parsed here.
// Values of -c and of "--section.key value" are skipped, not taken for the
// verb.
int verb_at(int argc, char** argv, std::string_view verb)
{
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == verb)
            return i;
        if (a == "-c" || a == "--config" || (a.starts_with("--") && a.find('.') != std::string_view::npos &&
                                             a.find('=') == std::string_view::npos))
            ++i;
        else if (!a.starts_with("-"))
            return 0;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    if (int verb = verb_at(argc, argv, "quarantine"))
        return cli::run_quarantine(argc, argv, verb);
    if (int verb = verb_at(argc, argv, "doctor"))
        return cli::run_doctor(argc, argv, verb);
    if (int verb = verb_at(argc, argv, "postfix-setup"))
        return cli::run_postfix_setup(argc, argv, verb);
    static constexpr std::string_view flags[] = {"--json"};
    auto cmd = base::parse_command_line(argc, argv, flags);
    if (cmd.has("--help")) {
        std::cout << usage;
        return 0;
    }
    if (cmd.has("--version")) {
        std::cout << "mxwarden " MXWARDEN_VERSION "\n";
        return 0;
    }
    const auto& p = cmd.positional;
    std::string request;
    if (p.size() == 3 && p[0] == "check" && (p[1] == "sender" || p[1] == "client")) {
        if (p[2].find_first_of(" \t\r\n") != std::string::npos || p[2].empty())
            cmd.errors.push_back("the address must be one word");
        request = "check " + p[1] + " " + p[2];
    } else if (p.size() == 2 && p[0] == "route") {
        if (p[1].find_first_of(" \t\r\n") != std::string::npos || p[1].empty())
            cmd.errors.push_back("the domain must be one word");
        request = "route " + p[1];
    } else if (p.size() == 1 && p[0] == "status") {
        request = "status";
    } else {
        std::cerr << usage;
        return EX_USAGE;
    }
    if (cmd.has("--json"))
        request += " json";
    request += "\n";

    auto loaded = base::load_values(cmd.config_file, cmd.overrides);
    std::vector<std::string> errors = loaded.errors;
    errors.insert(errors.end(), cmd.errors.begin(), cmd.errors.end());
    std::optional<base::config> cfg;
    if (errors.empty())
        cfg = base::build_config(loaded.values, std::filesystem::current_path().string(), errors);
    if (!cfg) {
        for (const auto& e : errors)
            std::cerr << "mxwarden: " << e << "\n";
        return EX_CONFIG;
    }

    const auto& where = cfg->listen_control;
    try {
        asio::io_context io;
        std::string response;
        if (where.type == proto::endpoint::kind::unix_socket) {
            asio::local::stream_protocol::socket sock(io);
            response = ask<asio::local::stream_protocol>(sock, {where.path}, request);
        } else {
            asio::ip::tcp::socket sock(io);
            response = ask<asio::ip::tcp>(sock, {asio::ip::make_address(where.host), where.port}, request);
        }
        if (response.starts_with("error: ")) {
            std::cerr << "mxwarden: daemon says " << response;
            return EX_SOFTWARE;
        }
        std::cout << response;
    } catch (const std::exception& e) {
        std::cerr << "mxwarden: cannot reach mxwardend at " << proto::to_string(where) << ": " << e.what()
                  << "\n(is mxwardend running with the same config? start it, or pass -c FILE)\n";
        return EX_UNAVAILABLE;
    }
    return 0;
}
