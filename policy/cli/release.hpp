// cli/release.hpp: releasing one quarantine entry: check it, claim it, hand
// it back to the MTA (cli/reinject), record the outcome. Shared by
// `mxwarden quarantine release` and mxwarden-web, so a release from the
// browser follows exactly the rules of one from the shell: one claim per
// entry across racing releases and fleet nodes, the envelope checked again
// before it reaches a command line, and "sent but not recorded" said plainly.
#pragma once
#include "base/config.hpp"
#include "store/quarantine.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace mxw::cli {

struct release_outcome {
    enum class kind {
        released,     ///< the MTA took it and the store says so
        would,        ///< dry run: it would be released
        unknown,      ///< no such entry
        refused,      ///< not held, already released, a bad address, claimed by another release
        failed,       ///< the MTA refused it or could not be reached: held again
        unrecorded,   ///< the MTA took it, recording that failed: do not release again
    } what = kind::unknown;
    /// One line for a person, without a program prefix: "released entry 7
    /// ...", "entry 7 is deleted, not held; not released".
    std::string message;
    /// A note before the outcome: a stale claim was taken over.
    std::string note;
    /// For the CLI: the sysexits status this outcome gives the run, and
    /// whether it only counts when nothing before it failed (a refusal
    /// that changes nothing) or always wins (a failure to act on).
    int exit_status = 0;
    bool unless_earlier = false;
};

/// `by`, when not empty, is who asked ("web:alice"); the history's
/// release line says so. `dry_run` checks everything but the claim.
release_outcome release_entry(store::quarantine& qs, std::int64_t id, const base::config& cfg, std::string_view by,
                              bool dry_run);

/// Whether a release claim is abandoned: its process is gone (a claim of
/// this machine's; another fleet node's pid cannot be checked from here) or
/// it is older than an hour.
bool claim_is_stale(const store::release_claim& c, std::int64_t at, const base::config& cfg);

/// "2026-12-07 01:02:03", UTC.
std::string format_utc(std::int64_t t);

}  // namespace mxw::cli
