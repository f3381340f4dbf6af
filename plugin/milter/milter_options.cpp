#include "milter/milter_options.hpp"

#include "base/duration.hpp"

#include <charconv>

namespace mxw::milter {
namespace {

// Values that reach libmilter or the store as they are; parse_endpoint
// checks the policy side.
bool valid_listen(std::string_view s)
{
    for (std::string_view p : {"inet:", "inet6:", "unix:", "local:"})
        if (s.starts_with(p) && s.size() > p.size())
            return true;
    return false;
}

// `key` is one of arg_options() that take a value.
std::string apply(milter_options& o, std::string_view key, std::string_view value)
{
    if (key == "--listen") {
        if (!valid_listen(value))
            return "--listen: '" + std::string(value) + "' is not inet:PORT@HOST, inet6:PORT@HOST or unix:PATH";
        o.listen = std::string(value);
    } else if (key == "--policy") {
        auto e = proto::parse_endpoint(value);
        if (!e)
            return "--policy: '" + std::string(value) + "' is not inet:HOST:PORT or unix:PATH";
        o.policy = *e;
    } else if (key == "--on-error") {
        if (value != "accept" && value != "tempfail")
            return "--on-error: '" + std::string(value) + "' is not accept or tempfail";
        o.on_error_tempfail = value == "tempfail";
    } else if (key == "--timeout") {
        auto d = base::parse_duration(value);
        if (!d || d->count() <= 0)
            return "--timeout: '" + std::string(value) + "' is not a positive duration (e.g. 8s, 500ms)";
        o.timeout = *d;
    } else if (key == "--quarantine-db") {
        if (!value.starts_with('/'))
            return "--quarantine-db: give an absolute path";
        o.quarantine_db = std::string(value);
    } else if (key == "--quarantine-transport") {
        if (value.empty() || value.find_first_of(" \t:") != std::string_view::npos)
            return "--quarantine-transport: '" + std::string(value) + "' is not a transport name";
        o.quarantine_transport = std::string(value);
    } else if (key == "--max-message-size") {
        std::size_t n = 0;
        auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
        if (value.empty() || ec != std::errc() || p != value.data() + value.size() || n == 0)
            return "--max-message-size: '" + std::string(value) + "' is not a positive number of bytes";
        o.max_message_bytes = n;
    }
    return {};
}

}  // namespace

std::span<const base::arg_option> arg_options() noexcept
{
    using base::takes_value;
    static constexpr base::arg_option options[] = {
        {"-h"},
        {"--help"},
        {"--version"},
        {"--listen", takes_value},
        {"--policy", takes_value},
        {"--on-error", takes_value},
        {"--timeout", takes_value},
        {"--quarantine-db", takes_value},
        {"--quarantine-transport", takes_value},
        {"--max-message-size", takes_value},
    };
    return options;
}

parsed_options apply_args(const base::parsed_args& args, milter_options base)
{
    parsed_options r;
    r.options = std::move(base);
    if (!args.errors.empty()) {
        r.error = args.errors.front();
        return r;
    }
    if (!args.positional.empty()) {
        r.error = "unexpected argument '" + args.positional.front() + "'";
        return r;
    }
    r.help = args.has("-h") || args.has("--help");
    r.version = args.has("--version");
    for (const auto& [key, value] : args.options) {
        if (key == "-h" || key == "--help" || key == "--version")
            continue;
        r.error = apply(r.options, key, value);
        if (!r.error.empty())
            break;
    }
    return r;
}

reload_plan plan_reload(const milter_options& running, const milter_options& fresh)
{
    reload_plan p;
    p.next = fresh;
    p.next.listen = running.listen;
    p.next.log_syslog = running.log_syslog;
    auto note = [](std::vector<std::string>& to, bool changed, std::string_view key) {
        if (changed)
            to.emplace_back(key);
    };
    note(p.restart_needed, fresh.listen != running.listen, "milter.listen");
    note(p.restart_needed, fresh.log_syslog != running.log_syslog, "log.target");
    note(p.applied, !(fresh.policy == running.policy), "milter.policy");
    note(p.applied, fresh.on_error_tempfail != running.on_error_tempfail, "milter.on-error");
    note(p.applied, fresh.timeout != running.timeout, "milter.timeout");
    note(p.applied, fresh.log_level != running.log_level, "log.level");
    note(p.applied, fresh.quarantine_db != running.quarantine_db, "quarantine.database");
    note(p.applied, fresh.quarantine_transport != running.quarantine_transport, "routing.quarantine-transport");
    note(p.applied, fresh.max_message_bytes != running.max_message_bytes, "quarantine.max-message-size");
    return p;
}

std::string_view usage() noexcept
{
    return "usage: mxwarden-milter [-c FILE] [--section.key=value ...] [options]\n"
           "  Settings come from mxwarden.conf (-c FILE, else /etc/mxwarden/mxwarden.conf if it exists):\n"
           "  milter.listen, milter.policy, milter.on-error, milter.timeout, quarantine.database,\n"
           "  quarantine.max-message-size, routing.quarantine-transport. These flags override them:\n"
           "  --listen SOCKET          where the MTA connects, libmilter syntax (inet:10042@127.0.0.1)\n"
           "  --policy ENDPOINT        mxwardend's policy listener (inet:127.0.0.1:10040 or unix:PATH)\n"
           "  --on-error accept|tempfail  when the daemon cannot be asked in time (accept)\n"
           "  --timeout DURATION       deadline of one policy request (8s)\n"
           "  --quarantine-db PATH     quarantine store (quarantine.database); if it cannot be written, quarantine verdicts tempfail\n"
           "  --quarantine-transport NAME  FILTER NAME:reason means quarantine (mxq)\n"
           "  --max-message-size BYTES largest message the quarantine takes (52428800)\n"
           "  -h, --help, --version\n";
}

}  // namespace mxw::milter
