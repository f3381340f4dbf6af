// cli/quarantine_cli.hpp: `mxwarden quarantine ingest|list|show|cat|release|
// delete|purge|stats`. `ingest` is run by the MTA (Postfix pipe(8) transport
// mxq, a Sendmail prog mailer) and follows their exit-status contract; the
// other verbs are for the admin and work on the store directly, so they do
// not need the daemon.
#pragma once

namespace mxw::cli {

/// argv[1] .. argv[verb_index - 1] are the global options (-c FILE,
/// --section.key=value), argv[verb_index] is "quarantine", the rest belong
/// to the verb. Returns the process exit status (sysexits.h).
int run_quarantine(int argc, char** argv, int verb_index);

}  // namespace mxw::cli
