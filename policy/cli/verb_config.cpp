#include "cli/verb_config.hpp"

#include <filesystem>

namespace mxw::cli {

verb_config load_verb_config(std::span<const std::string_view> global, const base::value_map& verb_overrides)
{
    // Only the shared config arguments go before a verb: its own options,
    // --json included, come after it.
    auto cmd = base::parse_args(global, {{}, base::config_args::all});
    verb_config out;
    out.errors = cmd.errors;
    out.config_file = cmd.config_file;
    out.overrides = cmd.overrides;
    for (const auto& [k, v] : verb_overrides)
        out.overrides.insert_or_assign(k, v);
    if (!out.errors.empty())
        return out;
    auto loaded = base::load_config(out.config_file, out.overrides, std::filesystem::current_path().string());
    out.errors = std::move(loaded.errors);
    out.cfg = std::move(loaded.cfg);
    return out;
}

}  // namespace mxw::cli
