// cli/doctor.hpp: `mxwarden doctor`, "why does my mail not go out?" on one
// screen. It asks every DNS server in use the same questions over UDP
// (plain, EDNS 1232, EDNS 4096) and TCP and says which transport really
// works (seeds 000, 001, 002); checks this server's outbound address, its
// PTR, the PTR's forward match and the HELO name (seed 003); lints main.cf
// for the settings that turn DNS trouble into lost mail; and asks the
// daemon and the quarantine how they are. Each finding comes with the fix
// in plain words.
#pragma once
#include "base/config.hpp"

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mxw::cli {

namespace doctor {

enum class level { ok, warn, fail, info };

std::string_view to_string(level l);

struct finding {
    std::string area;
    std::string subject;
    level lvl = level::ok;
    std::string detail;
    std::string fix;
};

/// Postfix's settings as postconf lists them: main.cf (`postconf -n`, name
/// -> value) or master.cf (`postconf -M`, "service/type" -> the entry line).
using postfix_settings = std::map<std::string, std::string>;

/// The main.cf and master.cf lint, for the routing mode `cfg` asks for
/// (routing.steer): the settings that turn DNS trouble into lost mail, and
/// what mxwarden's hookup lacks or no longer needs. Pure, for the tests.
void lint_postfix(const base::config& cfg, const postfix_settings& main_cf, const postfix_settings& master_cf,
                  std::vector<finding>& out);

}  // namespace doctor

/// `global`: the options before "doctor"; `args`: those after it. Exit
/// status: 0 when nothing failed (warnings allowed), 1 when a check failed,
/// sysexits codes for bad usage or configuration.
int run_doctor(std::span<const std::string_view> global, std::span<const std::string_view> args);

}  // namespace mxw::cli
