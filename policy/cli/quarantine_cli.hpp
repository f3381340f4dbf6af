// cli/quarantine_cli.hpp: `mxwarden quarantine ingest|list|show|cat|release|
// delete|purge|stats`. `ingest` is run by the MTA (Postfix pipe(8) transport
// mxq, a Sendmail prog mailer) and follows their exit-status contract; the
// other verbs are for the admin and work on the store directly, so they do
// not need the daemon.
#pragma once
#include <span>
#include <string_view>

namespace mxw::cli {

/// `global`: the options before "quarantine" (-c FILE, --section.key=value);
/// `args`: the verb and its arguments. Returns the process exit status
/// (sysexits.h).
int run_quarantine(std::span<const std::string_view> global, std::span<const std::string_view> args);

}  // namespace mxw::cli
