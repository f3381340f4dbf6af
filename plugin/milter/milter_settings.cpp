#include "milter/milter_settings.hpp"

#include "base/config.hpp"
#include "store/quarantine_store.hpp"

#include <filesystem>
#include <optional>
#include <string_view>

namespace mxw::milter {

invocation split_arguments(int argc, char** argv)
{
    invocation inv;
    inv.config_args.emplace_back(argv[0]);
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        bool takes_value = a == "-c" || a == "--config" ||
                           (a.starts_with("--") && a.find('.') != std::string_view::npos && a.find('=') == a.npos);
        if (takes_value || a.starts_with("--config=") ||
            (a.starts_with("--") && a.find('.') != std::string_view::npos && a.find('.') < a.find('='))) {
            inv.config_args.emplace_back(a);
            if (takes_value && i + 1 < argc)
                inv.config_args.emplace_back(argv[++i]);
        } else {
            inv.flags.emplace_back(a);
        }
    }
    return inv;
}

// The configuration file and overrides, then the milter's flags on top.
settings_read read_settings(const invocation& inv)
{
    settings_read out;
    std::vector<std::string> cargs = inv.config_args;
    std::vector<char*> cargv;
    for (auto& a : cargs)
        cargv.push_back(a.data());
    cargv.push_back(nullptr);
    auto cmd = base::parse_command_line(static_cast<int>(cargs.size()), cargv.data(), {});
    out.errors = cmd.errors;
    std::optional<base::config> cfg;
    if (out.errors.empty()) {
        auto loaded = base::load_values(cmd.config_file, cmd.overrides);
        out.errors = loaded.errors;
        if (out.errors.empty())
            cfg = base::build_config(loaded.values, std::filesystem::current_path().string(), out.errors);
    }
    if (!cfg)
        return out;
    milter_options from_file;
    const auto& l = cfg->milter.listen;
    // libmilter spells its socket inet:PORT@HOST, inet6:PORT@HOST, unix:PATH.
    from_file.listen = l.type == proto::endpoint::kind::unix_socket
                      ? "unix:" + l.path
                      : std::string(l.host.find(':') != std::string::npos ? "inet6:" : "inet:") +
                            std::to_string(l.port) + "@" + l.host;
    from_file.policy = cfg->milter.policy;
    from_file.on_error_tempfail = cfg->milter.on_error_tempfail;
    from_file.timeout = cfg->milter.timeout;
    from_file.quarantine_db = cfg->quarantine.database;
    from_file.quarantine_transport = cfg->routing.quarantine_transport;
    from_file.max_message_bytes = cfg->quarantine.max_message_bytes;
    from_file.log_syslog = cfg->log_syslog;
    from_file.log_level = cfg->log_level;
    std::vector<std::string_view> flags(inv.flags.begin(), inv.flags.end());
    out.parsed = parse_options(flags, from_file);
    // Warn about the deadline actually used: --timeout overrides milter.timeout.
    cfg->milter.timeout = out.parsed.options.timeout;
    out.warnings = base::config_warnings(*cfg);
    return out;
}

std::string check_store(const std::string& path)
{
    if (path.empty())
        return {};
    try {
        store::quarantine_store check(path);
        return {};
    } catch (const std::exception& e) {
        return "quarantine store " + path + ": " + e.what();
    }
}

}  // namespace mxw::milter
