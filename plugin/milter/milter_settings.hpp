// milter/milter_settings.hpp: where mxwarden-milter's settings come from:
// the shared mxwarden.conf (-c FILE, --section.key=value), then the
// milter's own flags on top. Read at start and again on SIGHUP, from the
// same arguments. No libmilter here.
#pragma once
#include "base/args.hpp"
#include "milter/milter_options.hpp"

#include <string>
#include <vector>

namespace mxw::milter {

/// How the milter was started: argv parsed once, with the milter's own
/// options and the shared -c FILE and --section.key=value. A reload reads
/// the same again.
using invocation = base::parsed_args;

invocation parse_invocation(int argc, char** argv);

struct settings_read {
    parsed_options parsed;              ///< the options, or help/version/error of the flags
    std::vector<std::string> errors;    ///< the configuration does not validate
    std::vector<std::string> warnings;  ///< base::config_warnings, on the values in effect
};

/// The configuration file and overrides, then the flags on top. Relative
/// paths are taken against the current directory.
settings_read read_settings(const invocation& inv);

/// Opens (and if need be creates) the quarantine store at `path`, so that a
/// broken one shows at start or reload, not at the first quarantined
/// message. Empty on success (or when `path` is empty), else the reason.
std::string check_store(const std::string& path);

}  // namespace mxw::milter
