// Fuzz target for base/args, the command-line parser of every binary.
// `quarantine ingest` gets its argv from the MTA, with the sender and the
// recipients of the message in it, so part of it is peer-controlled. The
// first byte picks the rules, the rest is the arguments separated by NUL
// (which argv cannot hold).
//
// Invariants: only declared options are recorded, each with a value exactly
// when it takes one; value() is the last of values(); stopping at a
// positional argument records none and says where; every error is safe to
// print (no control bytes).
#include "base/args.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

// Fuzz builds define NDEBUG in release modes, so invariants abort explicitly.
void require(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

constexpr mxw::base::arg_option options[] = {
    {"--json"}, {"-h"}, {"--reason", true}, {"--sender", true}, {"-f", true}, {"--name", true}};

const mxw::base::arg_option* find(std::string_view name)
{
    auto it = std::find_if(std::begin(options), std::end(options), [name](const auto& o) { return o.name == name; });
    return it == std::end(options) ? nullptr : &*it;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    using mxw::base::config_args;
    const config_args modes[] = {config_args::none, config_args::overrides, config_args::all};
    mxw::base::arg_rules rules{options, modes[data[0] % 3], (data[0] & 4) != 0};
    std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::vector<std::string_view> args;
    for (std::size_t at = 0; at <= in.size();) {
        std::size_t end = std::min(in.find('\0', at), in.size());
        args.push_back(in.substr(at, end - at));
        at = end + 1;
    }

    auto a = mxw::base::parse_args(args, rules);
    require(a.rest <= args.size(), "rest is an index into the arguments");
    require(!rules.stop_at_positional || a.positional.empty(), "stopping at a positional records none");
    require(rules.stop_at_positional || a.rest == args.size(), "rest is the end unless stopping");
    require(a.options.size() + a.positional.size() <= args.size(), "every argument is used once at most");
    require(rules.config != config_args::none || (a.overrides.empty() && a.config_file.empty()),
            "config arguments only where accepted");
    require(rules.config == config_args::all || a.config_file.empty(), "-c only where accepted");
    for (const auto& [name, value] : a.options) {
        const auto* o = find(name);
        require(o != nullptr, "only declared options are recorded");
        require(o->takes_value || value.empty(), "a flag has no value");
        require(a.has(name) && a.value(name) && *a.value(name) == a.values(name).back(), "value() is the last");
    }
    auto control = [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; };
    for (const auto& e : a.errors)
        require(std::none_of(e.begin(), e.end(), control), "errors are safe to print");
    return 0;
}
