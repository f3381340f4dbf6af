#include "cli/release.hpp"

#include "cli/reinject.hpp"
#include "proto/mail_address.hpp"
#include "proto/reinjection.hpp"
#include "proto/sanitize.hpp"

#include <cerrno>
#include <ctime>
#include <limits>
#include <signal.h>
#include <sysexits.h>
#include <unistd.h>

namespace mxw::cli {
namespace {

using store::entry_state;

std::int64_t now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// A claim taken over this long after it was made is abandoned even if its
// pid is alive. The hour bounds the case of a pid reused by an unrelated
// process; it is far longer than one send takes (the SMTP path's deadlines
// add up to about 12 minutes; the MTA's sendmail queues locally in well
// under a second), so only a release hung that long can see its entry
// taken over while it still runs.
constexpr std::int64_t claim_stale_after_seconds = 3600;

release_outcome refused(std::int64_t id, std::string text, int status, bool unless_earlier)
{
    return {release_outcome::kind::refused, "entry " + std::to_string(id) + text, {}, status, unless_earlier};
}

std::string by_suffix(std::string_view by)
{
    return by.empty() ? std::string() : " (by " + std::string(by) + ")";
}

}  // namespace

std::string format_utc(std::int64_t t)
{
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

bool claim_is_stale(const store::release_claim& c, std::int64_t at, const base::config& cfg)
{
    if (at - c.at > claim_stale_after_seconds)
        return true;
    // Another node's process cannot be looked at from here: its claim
    // stands until the hour is up.
    if (!c.node.empty() && c.node != cfg.store.node)
        return false;
    if (c.pid <= 0 || c.pid > std::numeric_limits<pid_t>::max())
        return true;
    // EPERM: alive, but another user's (root released, the admin looks).
    return ::kill(static_cast<pid_t>(c.pid), 0) != 0 && errno == ESRCH;
}

release_outcome release_entry(store::quarantine& qs, std::int64_t id, const base::config& cfg, std::string_view by,
                              bool dry_run)
{
    using kind = release_outcome::kind;
    const std::string n = std::to_string(id);
    auto d = qs.find(id);
    if (!d)
        return {kind::unknown, "no quarantine entry " + n, {}, EX_NOINPUT, false};
    if (d->summary.state == entry_state::released)
        return refused(id, " was already released; not released again", EX_DATAERR, true);
    if (d->summary.state != entry_state::held && d->summary.state != entry_state::releasing)
        return refused(id, " is " + std::string(store::to_string(d->summary.state)) + ", not held; not released",
                       EX_DATAERR, true);
    // The store holds what the MTA accepted, but it is handed to a command
    // line and to SMTP commands: check again rather than trust.
    std::optional<std::string> bad = proto::check_envelope_address(d->summary.sender, true);
    for (const auto& r : d->recipients)
        if (!bad)
            if (auto why = proto::check_envelope_address(r, false))
                bad = "recipient '" + proto::sanitize(r) + "' " + *why;
    if (bad)
        return refused(id, ": " + *bad + "; not released", EX_DATAERR, false);

    const auto& q = cfg.quarantine;
    const bool smtp = q.release_via == base::quarantine_settings::release::smtp;
    if (dry_run) {
        std::string via = smtp ? "smtp:" + proto::to_string(q.smtp).substr(5) : "sendmail:" + q.sendmail_path;
        return {kind::would,
                "would release entry " + n + " from <" + proto::sanitize(d->summary.sender) + "> to " +
                    std::to_string(d->recipients.size()) + " recipient(s) via " + via,
                {}, 0, false};
    }
    // The claim decides who sends: another release may have claimed (or
    // finished) the entry since find() above. Its time is now, not the
    // start of a run: a long bulk release must not hand out claims that
    // already look an hour old.
    const store::release_claim mine{static_cast<std::int64_t>(::getpid()), now()};
    auto c = qs.claim_release(id, mine, [&](const store::release_claim& h) { return claim_is_stale(h, now(), cfg); });
    if (c.what != store::claim_result::kind::claimed) {
        if (c.what == store::claim_result::kind::busy)
            return refused(id,
                           " is already being released (by pid " + std::to_string(c.holder->pid) +
                               (c.holder->node.empty() ? "" : " on " + proto::sanitize(c.holder->node)) + " since " +
                               format_utc(c.holder->at) + " UTC); not released",
                           EX_DATAERR, true);
        if (c.what == store::claim_result::kind::not_held && c.state == entry_state::released)
            return refused(id, " was already released; not released again", EX_DATAERR, true);
        return refused(id, " is " + std::string(store::to_string(c.state)) + "; not released",
                       c.what == store::claim_result::kind::unknown ? EX_NOINPUT : EX_DATAERR, true);
    }
    std::string note;
    if (c.holder)
        note = "entry " + n + ": the release by pid " + std::to_string(c.holder->pid) + " at " +
               format_utc(c.holder->at) + " UTC did not finish; releasing it again (the MTA may have received it then)";
    // Read again under the claim: the message may have come back (new
    // recipients, one more attempt) between find() and the claim.
    d = qs.find(id);
    auto msg = qs.message(id);
    if (!d || !msg)
        return {kind::refused, "entry " + n + " has no message", note, EX_NOINPUT, false};
    const auto& s = d->summary;
    auto out = proto::with_quarantine_id(*msg, id);
    std::string detail;
    try {
        detail = smtp ? reinject_smtp(q.smtp, s.sender, d->recipients, out)
                      : reinject_sendmail(q.sendmail_path, s.sender, d->recipients, out);
    } catch (const std::exception& e) {
        qs.record_release_failure(id, mine.pid, now(), e.what() + by_suffix(by));
        return {kind::failed, "entry " + n + " not released: " + e.what(), note, EX_UNAVAILABLE, false};
    }
    try {
        qs.mark_released(id, mine.pid, s.attempts, now(), detail + by_suffix(by));
    } catch (const std::exception& e) {
        // The MTA has the message now; releasing it again would send it
        // twice, so say so plainly. The entry stays claimed by this pid and
        // becomes releasable again once the claim is stale.
        return {kind::unrecorded,
                "entry " + n + " WAS released (" + detail + ") but recording that failed: " + e.what() +
                    "; do not release it again",
                note, EX_IOERR, false};
    }
    return {kind::released, "released entry " + n + " " + detail, note, 0, false};
}

}  // namespace mxw::cli
