// cli/store_cli.hpp: `mxwarden store migrate --from sqlite:PATH`: copies a
// machine's SQLite quarantine into the PostgreSQL store a fleet shares
// (store.url). Each entry goes over in a transaction of its own and is
// recorded by where it came from, so a run again copies only what is not
// there yet, and a run that was stopped half way is finished by the next.
#pragma once
#include <span>
#include <string_view>

namespace mxw::cli {

/// `global`: the options before "store" (-c FILE, --section.key=value);
/// `args`: the verb and its arguments. Returns the process exit status
/// (sysexits.h).
int run_store(std::span<const std::string_view> global, std::span<const std::string_view> args);

}  // namespace mxw::cli
