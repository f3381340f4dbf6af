#include "cli/verb_config.hpp"

#include "proto/sanitize.hpp"

#include <filesystem>

namespace mxw::cli {

verb_config load_verb_config(int argc, char** argv, int verb_index, const std::vector<std::string>& verb_overrides)
{
    std::vector<std::string> global(argv, argv + std::min(verb_index, argc));
    global.insert(global.end(), verb_overrides.begin(), verb_overrides.end());
    std::vector<char*> gargv;
    for (auto& g : global)
        gargv.push_back(g.data());
    gargv.push_back(nullptr);
    auto cmd = base::parse_command_line(static_cast<int>(global.size()), gargv.data(), {});
    verb_config out;
    out.errors = cmd.errors;
    out.config_file = cmd.config_file;
    out.overrides = cmd.overrides;
    if (!cmd.positional.empty())
        out.errors.push_back("unexpected '" + proto::sanitize(cmd.positional.front()) + "' before " +
                             (verb_index < argc ? argv[verb_index] : "the command"));
    if (!out.errors.empty())
        return out;
    auto loaded = base::load_values(cmd.config_file, cmd.overrides);
    out.errors = loaded.errors;
    if (out.errors.empty())
        out.cfg = base::build_config(loaded.values, std::filesystem::current_path().string(), out.errors);
    return out;
}

}  // namespace mxw::cli
