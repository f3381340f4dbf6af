#include "milter/milter_settings.hpp"

#include "base/config.hpp"
#include "store/quarantine_store.hpp"

#include <filesystem>
#include <optional>

namespace mxw::milter {

invocation parse_invocation(int argc, char** argv)
{
    return base::parse_args(base::arg_views(argc, argv), {arg_options(), base::config_args::all});
}

// The configuration file and overrides, then the milter's flags on top.
settings_read read_settings(const invocation& inv)
{
    settings_read out;
    auto loaded = base::load_config(inv.config_file, inv.overrides, std::filesystem::current_path().string());
    out.errors = std::move(loaded.errors);
    std::optional<base::config>& cfg = loaded.cfg;
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
    out.parsed = apply_args(inv, from_file);
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
