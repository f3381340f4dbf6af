// cli/web_user_cli.hpp: `mxwarden web-user add|passwd|del|list`: manages
// the users of mxwarden-web in the file web.users. Passwords come from
// standard input (one line) when it is not a terminal, else from the
// terminal without echo, asked twice; only their Argon2id hashes are kept.
#pragma once
#include <span>
#include <string_view>

namespace mxw::cli {

/// `global`: the options before "web-user" (-c FILE, --section.key=value);
/// `args`: the verb and its arguments. Returns the process exit status
/// (sysexits.h).
int run_web_user(std::span<const std::string_view> global, std::span<const std::string_view> args);

}  // namespace mxw::cli
