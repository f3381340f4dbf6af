// base/config.hpp: mxwarden's settings. One option table is the single
// source of names, defaults and help; Boost.Program_options reads the INI
// file and --section.key=value overrides into strings, and a pure
// build_config() turns them into a typed, validated, immutable config.
#pragma once
#include "base/args.hpp"
#include "base/logging.hpp"
#include "dns/unbound_resolver.hpp"
#include "engine/policy_engine.hpp"
#include "engine/router.hpp"
#include "proto/endpoint.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mxw::base {

struct option_spec {
    std::string_view key;            ///< "section.key"
    std::string_view default_value;
    std::string_view help;
};

/// Every key mxwarden knows, in the order --print-config and the sample
/// config file list them.
std::span<const option_spec> option_table() noexcept;

/// A byte count with an optional binary suffix: "4096", "500M", "10G"
/// (K, M, G, T = 2^10 .. 2^40). nullopt for 0, garbage or more than 2^62.
std::optional<std::uint64_t> parse_size(std::string_view s) noexcept;

inline constexpr std::string_view default_config_file = "/etc/mxwarden/mxwarden.conf";

/// Where the quarantine store is and how released mail goes back to the MTA.
struct quarantine_settings {
    std::string database;  ///< absolute path of the SQLite file
    std::chrono::seconds retention{30 * 86400};
    enum class release { sendmail, smtp } release_via = release::sendmail;
    std::string sendmail_path = "/usr/sbin/sendmail";
    proto::endpoint smtp;  ///< release_via == smtp: an inet endpoint
    std::size_t max_message_bytes = 50 * 1024 * 1024;
    /// quarantine.max-size; nullopt ("auto"): store::default_max_bytes.
    std::optional<std::uint64_t> max_bytes;
};

/// store.*: where the fleet's shared store is, and who this machine is in it.
struct store_settings {
    std::string url;   ///< empty: SQLite files on this machine
    std::string node;  ///< store.node, or the host name
};

/// mxwarden-milter's own settings (the rest it shares: quarantine, routing).
struct milter_settings {
    proto::endpoint listen{proto::endpoint::kind::inet, "127.0.0.1", 10042, ""};
    proto::endpoint policy;  ///< listen.policy unless milter.policy says otherwise
    bool on_error_tempfail = false;
    std::chrono::milliseconds timeout{8000};
};

/// mxwarden-web's settings: where it listens, its users file, how long a
/// login lasts.
struct web_settings {
    proto::endpoint listen{proto::endpoint::kind::inet, "127.0.0.1", 10044, ""};
    std::string users;  ///< absolute path of the users file (web.users)
    std::chrono::seconds session_idle{30 * 60};
    std::chrono::seconds session_max{12 * 3600};
};

/// routing.steer, kept in config::routing.steer.
using steer_mode = engine::steer_mode;

/// Where mxwardend reads Postfix's delivery attempts (issue 11).
struct feedback_settings {
    enum class kind { none, journal, file } source = kind::none;
    std::string path;  ///< kind::file: the maillog_file, absolute
    bool operator==(const feedback_settings&) const = default;
};

struct config {
    std::string state_dir;
    bool log_syslog = false;
    base::log_level log_level = base::log_level::info;
    std::chrono::milliseconds drain_timeout{5000};  ///< SIGTERM: longest wait for requests in flight
    proto::endpoint listen_policy;
    proto::endpoint listen_socketmap;
    proto::endpoint listen_control;
    std::optional<proto::endpoint> listen_metrics;  ///< nullopt: no metrics endpoint
    dns::unbound_options dns;
    engine::policy_config policy;
    engine::routing_config routing;
    engine::health_config health;  ///< delivery_failures is feedback.failures
    feedback_settings feedback;
    quarantine_settings quarantine;
    store_settings store;
    milter_settings milter;
    web_settings web;
    bool deny_local_addresses = true;
    std::chrono::milliseconds probe_connect_timeout{10000};
    std::chrono::milliseconds probe_banner_timeout{30000};
    std::size_t policy_max_connections = 1000;
    std::chrono::milliseconds policy_idle_timeout{600'000};
};

/// Typed config from key -> value strings (missing keys take their
/// defaults). Errors name the key: "dns.transport: 'x' is not one of ...".
/// Relative state-dir and unix socket paths are taken against `cwd`.
std::optional<config> build_config(const value_map& values, const std::string& cwd, std::vector<std::string>& errors);

struct loaded {
    value_map values;                 ///< effective values, defaults filled in
    std::string file;                 ///< the config file read, or "" for none
    std::vector<std::string> errors;  ///< parse errors (unknown key, bad syntax)
};

/// How far policy.deadline must stay below milter.timeout: the daemon's
/// fail-open answer still has to travel back to the milter.
inline constexpr std::chrono::milliseconds milter_deadline_margin{1000};
/// Sendmail's default milter read timeout (T=R:10s), the tightest an MTA
/// gives a milter by default (Postfix's milter_command_timeout is 30s).
inline constexpr std::chrono::milliseconds mta_milter_read_timeout{10000};

/// Settings that validate but work against each other, one sentence each
/// naming the keys (empty when none). `mxwardend --check-config` and
/// mxwarden-milter at start print them; they never stop a start.
std::vector<std::string> config_warnings(const config& cfg);

/// Reads `file` (or the default file if it exists and `file` is empty) and
/// lays `overrides` ("section.key" -> value) on top.
loaded load_values(const std::string& file, const value_map& overrides);

/// The configuration as every mxwarden program reads it, at start and at a
/// reload: `file` (or the default file when it exists) with `overrides` on
/// top, validated, relative paths taken against `cwd`. `prior` are errors
/// the caller found already (in its command line). With any error, `cfg` is
/// empty and `errors` lists them all, prior ones after the file's.
struct loaded_config {
    loaded raw;
    std::optional<config> cfg;
    std::vector<std::string> errors;
};
loaded_config load_config(const std::string& file, const value_map& overrides, const std::string& cwd,
                          std::vector<std::string> prior = {});

/// "[section]\nkey = value\n..." for every key: a complete config file.
std::string format_config(const value_map& values);

/// For a reload: the keys whose effective value differs between `before`
/// and `after` (defaults count as values), in option-table order.
std::vector<std::string> changed_keys(const value_map& before, const value_map& after);

/// Keys mxwardend cannot apply while it runs: its listening sockets, the
/// state directory, the log target and the cache sizes. A reload keeps
/// their old values and says a restart is needed.
bool needs_restart(std::string_view key) noexcept;

}  // namespace mxw::base
