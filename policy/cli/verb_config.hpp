// cli/verb_config.hpp: the configuration for a verb that parses its own
// options (quarantine, doctor, postfix-setup): the global options before
// the verb (-c FILE, --section.key=value) and the --section.key=value
// overrides found among the verb's arguments go through the same parser,
// file and validation as every other mxwarden command.
#pragma once
#include "base/args.hpp"
#include "base/config.hpp"

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mxw::cli {

struct verb_config {
    std::optional<base::config> cfg;  ///< nullopt: `errors` says why
    std::vector<std::string> errors;
    std::string config_file;            ///< -c FILE as given, or ""
    base::value_map overrides;        ///< --section.key=value as given
};

/// `global`: the arguments before the verb; `verb_overrides`: those after
/// it, which win over the global ones.
verb_config load_verb_config(std::span<const std::string_view> global, const base::value_map& verb_overrides);

}  // namespace mxw::cli
