#include "base/args.hpp"

#include "proto/sanitize.hpp"

#include <algorithm>
#include <optional>

namespace mxw::base {

bool parsed_args::has(std::string_view name) const
{
    return std::any_of(options.begin(), options.end(), [name](const auto& o) { return o.first == name; });
}

const std::string* parsed_args::value(std::string_view name) const
{
    auto it = std::find_if(options.rbegin(), options.rend(), [name](const auto& o) { return o.first == name; });
    return it == options.rend() ? nullptr : &it->second;
}

std::vector<std::string> parsed_args::values(std::string_view name) const
{
    std::vector<std::string> out;
    for (const auto& [n, v] : options)
        if (n == name)
            out.push_back(v);
    return out;
}

parsed_args parse_args(std::span<const std::string_view> args, const arg_rules& rules)
{
    parsed_args out;
    out.rest = args.size();
    auto declared = [&](std::string_view name) -> const arg_option* {
        auto it = std::find_if(rules.options.begin(), rules.options.end(),
                               [name](const arg_option& o) { return o.name == name; });
        return it == rules.options.end() ? nullptr : &*it;
    };
    bool only_positional = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view a = args[i];
        if (only_positional || a.empty() || a == "-" || a.front() != '-') {
            if (rules.stop_at_positional) {
                out.rest = i;
                return out;
            }
            out.positional.emplace_back(a);
            continue;
        }
        if (a == "--") {
            only_positional = true;
            continue;
        }
        // The value of an option that takes one: attached, else the next
        // argument even if it starts with a dash (a sender may). Missing,
        // the option is not recorded at all, only the error.
        auto value_of = [&](std::string_view name,
                            std::optional<std::string_view> attached) -> std::optional<std::string> {
            if (attached)
                return std::string(*attached);
            if (i + 1 < args.size())
                return std::string(args[++i]);
            out.errors.push_back(proto::sanitize(name) + " needs a value");
            return std::nullopt;
        };
        bool is_long = a.starts_with("--");
        std::string_view name = a;
        std::optional<std::string_view> attached;
        if (is_long) {
            if (auto eq = a.find('='); eq != std::string_view::npos) {
                name = a.substr(0, eq);
                attached = a.substr(eq + 1);
            }
        } else {
            name = a.substr(0, 2);
            if (a.size() > 2)
                attached = a.substr(2);
        }
        if (const arg_option* o = declared(name)) {
            if (!o->takes_value) {
                if (attached && is_long)
                    out.errors.push_back(proto::sanitize(name) + " takes no value");
                else if (attached)
                    out.errors.push_back("unknown option " + proto::sanitize(a));
                else
                    out.options.emplace_back(name, "");
            } else if (auto v = value_of(name, attached)) {
                out.options.emplace_back(name, std::move(*v));
            }
        } else if (rules.config != config_args::none && is_long && name.find('.') != std::string_view::npos) {
            if (auto v = value_of(name, attached))
                out.overrides.insert_or_assign(std::string(name.substr(2)), std::move(*v));
        } else if (rules.config == config_args::all && (name == "-c" || name == "--config")) {
            if (auto v = value_of(name, attached))
                out.config_file = std::move(*v);
        } else {
            out.errors.push_back("unknown option " + proto::sanitize(a));
        }
    }
    return out;
}

std::vector<std::string_view> arg_views(int argc, char** argv)
{
    return argc > 1 ? std::vector<std::string_view>(argv + 1, argv + argc) : std::vector<std::string_view>{};
}

}  // namespace mxw::base
