// milter/milter_options.hpp: mxwarden-milter's settings. They come from
// mxwarden.conf (milter.*, quarantine.*, routing.quarantine-transport, read
// by the caller), and flags of the milter's own ("--key VALUE" or
// "--key=VALUE") override them. Pure: the caller prints the error or the
// help.
#pragma once
#include "base/args.hpp"
#include "base/logging.hpp"
#include "proto/endpoint.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mxw::milter {

struct milter_options {
    /// Where libmilter listens, in its own syntax: inet:PORT@HOST, inet6:PORT@HOST, unix:PATH, local:PATH.
    std::string listen = "inet:10042@127.0.0.1";
    /// The daemon's policy listener, Postfix syntax (inet:HOST:PORT, unix:PATH).
    proto::endpoint policy{proto::endpoint::kind::inet, "127.0.0.1", 10040, {}};
    /// true: tempfail when the daemon cannot be asked in time; false: accept.
    bool on_error_tempfail = false;
    /// Deadline of one policy request, connect included. Below Sendmail's
    /// default milter read timeout (T=R:10s), so the milter answers itself.
    std::chrono::milliseconds timeout{8000};
    /// The quarantine store; empty: quarantine verdicts answer tempfail.
    std::string quarantine_db;
    /// FILTER answers to this transport are quarantine verdicts (routing.quarantine-transport).
    std::string quarantine_transport = "mxq";
    /// Largest message captured for the quarantine (quarantine.max-message-size).
    std::size_t max_message_bytes = 50 * 1024 * 1024;
    /// Log to syslog (facility mail) instead of stderr (log.target).
    bool log_syslog = false;
    /// The lowest priority logged (log.level); a reload applies it.
    base::log_level log_level = base::log_level::info;
};

struct parsed_options {
    milter_options options;
    bool help = false;
    bool version = false;
    std::string error;  ///< non-empty: the command line is wrong
};

/// The milter's own options, for base::parse_args; every one but -h,
/// --help and --version takes a value.
std::span<const base::arg_option> arg_options() noexcept;

/// The options in `args` applied in order over `base` (the values from the
/// configuration file); the first error (a parse error, a positional
/// argument, a bad value) stops it.
parsed_options apply_args(const base::parsed_args& args, milter_options base);

/// What a reload (SIGHUP) does with freshly read settings. The listen
/// socket is opened once, before libmilter starts its threads, and the log
/// target once at start: those keep their running values and are named in
/// `restart_needed`. Everything else takes effect for the next request.
struct reload_plan {
    milter_options next;                   ///< `fresh`, with the restart-only settings as running
    std::vector<std::string> applied;      ///< config keys whose new value takes effect now
    std::vector<std::string> restart_needed;  ///< config keys changed that only a restart applies
};

reload_plan plan_reload(const milter_options& running, const milter_options& fresh);

/// The --help text.
std::string_view usage() noexcept;

}  // namespace mxw::milter
