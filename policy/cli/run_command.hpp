// cli/run_command.hpp: running Postfix's own tools (postconf, postfix) from
// the CLI: argv only, never a shell, stdout captured and capped.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace mxw::cli {

struct command_result {
    int status = -1;      ///< exit status; -1 if it could not run or died by a signal
    std::string output;   ///< stdout (at most 1 MiB)
    std::string errors;   ///< stderr (at most 64 KiB)
};

/// Runs argv[0] (looked up in PATH) and waits for it.
command_result run_command(const std::vector<std::string>& argv);

/// stdout of a command that exited 0, else nullopt.
std::optional<std::string> capture(const std::vector<std::string>& argv);

}  // namespace mxw::cli
