// cli/doctor.hpp: `mxwarden doctor`, "why does my mail not go out?" on one
// screen. It asks every DNS server in use the same questions over UDP
// (plain, EDNS 1232, EDNS 4096) and TCP and says which transport really
// works (seeds 000, 001, 002); checks this server's outbound address, its
// PTR, the PTR's forward match and the HELO name (seed 003); lints main.cf
// for the settings that turn DNS trouble into lost mail; and asks the
// daemon and the quarantine how they are. Each finding comes with the fix
// in plain words.
#pragma once
#include <span>
#include <string_view>

namespace mxw::cli {

/// `global`: the options before "doctor"; `args`: those after it. Exit
/// status: 0 when nothing failed (warnings allowed), 1 when a check failed,
/// sysexits codes for bad usage or configuration.
int run_doctor(std::span<const std::string_view> global, std::span<const std::string_view> args);

}  // namespace mxw::cli
