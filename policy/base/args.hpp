// base/args.hpp: the one command-line parser of every mxwarden binary
// (mxwardend, the mxwarden CLI and its verbs, mxwarden-milter). A caller
// declares its options; the parser also knows the arguments every binary
// shares: -c FILE and the --section.key=value config overrides. Pure: no
// I/O, no exit; the caller prints the errors and picks the exit status.
//
// One argument at a time:
//   --                  ends the options: every later argument is positional
//   --name=VALUE        an option that takes a value (a flag given one is an error)
//   --name VALUE        the next argument is the value, whatever it looks like
//   -xVALUE, -x VALUE   a one-letter option that takes a value (Sendmail's -fSENDER)
//   --section.key[=V]   a config override (a dot before any '='); the key is
//                       checked later, by load_values, like the file's keys
//   -c FILE, --config FILE, --config=FILE
//   "", "-", WORD       positional
#pragma once
#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mxw::base {

/// "section.key" -> value: config files and overrides alike.
using value_map = std::map<std::string, std::string, std::less<>>;

struct arg_option {
    std::string_view name;  ///< with its dashes: "--reason", "-f"
    bool takes_value = false;
};

/// For option tables: {"--reason", takes_value}; a flag is just {"--json"}.
inline constexpr bool takes_value = true;

/// Which of the shared config arguments a command line accepts.
enum class config_args {
    none,       ///< neither: they are unknown options
    overrides,  ///< --section.key=value only (the CLI's verbs: -c goes before the verb)
    all,        ///< -c FILE as well
};

struct arg_rules {
    std::span<const arg_option> options;
    config_args config = config_args::all;
    /// Stop at the first positional argument (the CLI's verb); `rest`
    /// says where it is, and nothing from there on is looked at.
    bool stop_at_positional = false;
};

struct parsed_args {
    std::string config_file;  ///< -c FILE, or ""
    value_map overrides;      ///< --section.key=value; the last of a repeated key wins
    /// The caller's options in command-line order; a flag has an empty value.
    std::vector<std::pair<std::string, std::string>> options;
    std::vector<std::string> positional;
    std::size_t rest = 0;  ///< stop_at_positional: index of the positional stopped at, else args.size()
    /// "unknown option --x", "--reason needs a value", "--json takes no value".
    std::vector<std::string> errors;

    [[nodiscard]] bool has(std::string_view name) const;
    /// The last value given for `name`, or nullptr.
    [[nodiscard]] const std::string* value(std::string_view name) const;
    /// Every value given for `name`, in order (a repeatable option).
    [[nodiscard]] std::vector<std::string> values(std::string_view name) const;
};

/// `args` without the program name.
parsed_args parse_args(std::span<const std::string_view> args, const arg_rules& rules);

/// argv[1] .. argv[argc - 1]; the views point into argv.
std::vector<std::string_view> arg_views(int argc, char** argv);

}  // namespace mxw::base
