#!/bin/bash
# `mxwarden quarantine` on bad input and in trouble, run as the MTA would run it (as the ingest user): garbage on
# stdin is mail and is stored byte for byte; a broken command line or config exits 75 (the MTA keeps the mail);
# an oversized message exits 65 with a 5.3.4 text (the MTA bounces it, nothing lost); a read-only store exits 75
# and writes nothing. Then the admin verbs: release through a sendmail stand-in (argv, tracking header), a
# failing release, delete, purge, usage errors and unknown ids.
#
# No daemons, no ports: runs beside anything.
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
mxw_begin quarantine_input_test
qa_user=$MXW_QA_USER
state=$work/state
# grep -q stops reading at the first match; under pipefail the writer's SIGPIPE would then fail the check.
grep_all() { grep "$@" >/dev/null; }
mxw_qa_state_dir "$state"

# ingest_as STATE_DIR [options...]: the ingest as the MTA runs it; sets rc and out.
ingest_as() {
    local dir=$1
    shift
    rc=0
    out=$(runuser -u "$qa_user" -- "$MXW_BUILD/mxwarden" --daemon.state-dir="$dir" "$@" 2>&1) || rc=$?
}
q() { "$MXW_BUILD/mxwarden" --daemon.state-dir="$state" quarantine "$@"; }
count() { q list --state all --json | grep -o '"id":' | wc -l; }
expect() { # expect RC PATTERN WHAT
    [[ $rc == "$1" ]] || fail "$3: exit $rc, want $1 (output: $out)"
    [[ -z $2 ]] || grep_all -E -- "$2" <<<"$out" || fail "$3: output '$out' does not match '$2'"
}

# Garbage is mail: every byte value, no header, no final newline.
head -c 4096 /dev/urandom >"$work/garbage"
ingest_as "$state" quarantine ingest --reason dns-failure --queue-id G1 -f '<>' -- rcpt@example.org <"$work/garbage"
expect 0 'quarantined as entry 1' "binary garbage"
q cat 1 | cmp -s - "$work/garbage" || fail "cat 1 does not give back the garbage byte for byte"
q show 1 | grep_all 'sender       <>' || fail "the null sender is not shown as <>"
[[ $(stat -c %a "$state/quarantine.db") == 640 ]] || fail "the store is mode $(stat -c %a "$state/quarantine.db"), want 640"

# Sendmail-style arguments: -fSENDER, recipients without "--".
printf 'Subject: sendmail style\n\nx\n' >"$work/small"
ingest_as "$state" quarantine ingest --reason null-mx -fa@example.org b@example.org c@example.org <"$work/small"
expect 0 'entry 2' "Sendmail-style -fSENDER"

# The MTA's command line is wrong: 75 (queued), a 4.x.x text, nothing stored.
before=$(count)
ingest_as "$state" quarantine ingest --reason r --sender a@example.org <"$work/small"
expect 75 '^4\.3\.5 .*no recipient' "missing recipient"
ingest_as "$state" quarantine ingest --reason r -- b@example.org <"$work/small"
expect 75 '^4\.3\.5 .*no --sender' "missing sender"
ingest_as "$state" quarantine ingest --reason r --sender a@example.org -- -oQ/tmp@example.org <"$work/small"
expect 75 "^4\.3\.5 .*starts with '-'" "recipient that looks like an option"
ingest_as "$state" quarantine ingest --reason r --sender a@example.org --bogus x -- b@example.org <"$work/small"
expect 75 '^4\.3\.5 ' "unknown option"
ingest_as "$state" --quarantine.release-via=bogus quarantine ingest --sender a@example.org -- b@example.org <"$work/small"
expect 75 '^4\.3\.5 .*quarantine.release-via' "bad configuration"
[[ $(count) == "$before" ]] || fail "a refused ingest stored something"

# Too big: read to the end, then 65 with the text pipe(8) puts in the bounce. At the limit it fits.
head -c 1001 /dev/zero | tr '\0' x >"$work/big"
ingest_as "$state" --quarantine.max-message-size=1000 quarantine ingest --sender a@example.org -- b@example.org <"$work/big"
expect 65 '^5\.3\.4 message too big for the quarantine \(1001 bytes, limit 1000\)' "oversized message"
head -c 1000 "$work/big" >"$work/fits"
ingest_as "$state" --quarantine.max-message-size=1000 quarantine ingest --sender a@example.org -- b@example.org <"$work/fits"
expect 0 'entry 3' "message at the size limit"

# A read-only store directory (new store) and a read-only store file: 75, and nothing half-written.
mkdir -p "$work/ro" && chmod 0555 "$work/ro"
ingest_as "$work/ro" quarantine ingest --sender a@example.org -- b@example.org <"$work/small"
expect 75 '^4\.3\.0 quarantine unavailable: ' "read-only store directory"
[[ -z $(ls -A "$work/ro") ]] || fail "files appeared in the read-only directory: $(ls -A "$work/ro")"
before=$(count)
chmod 0440 "$state/quarantine.db"
ingest_as "$state" quarantine ingest --queue-id RO1 --sender a@example.org -- b@example.org <"$work/small"
expect 75 '^4\.3\.0 quarantine unavailable: ' "read-only store file"
chmod 0640 "$state/quarantine.db"
[[ $(count) == "$before" ]] || fail "the read-only store changed"
ingest_as "$state" quarantine ingest --queue-id RO1 --sender a@example.org -- b@example.org <"$work/small"
expect 0 'quarantined as entry' "the same message once the store is writable again"

# A store from a newer mxwarden: refused, mail stays queued.
mkdir "$work/newer" && cp "$state/quarantine.db" "$work/newer/q.db" && chown -R "$qa_user:" "$work/newer"
runuser -u "$qa_user" -- "$MXW_PYTHON" -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("PRAGMA user_version=99"); c.commit()' "$work/newer/q.db"
ingest_as "$state" --quarantine.database="$work/newer/q.db" quarantine ingest --sender a@example.org -- b@example.org <"$work/small"
expect 75 '^4\.3\.0 .*schema version 99' "newer schema"

# Release through a sendmail stand-in that records its argv and stdin.
cat >"$work/sendmail" <<EOS
#!/bin/bash
printf '%s\n' "\$@" >"$work/sendmail.argv"
cat >"$work/sendmail.stdin"
exit \${FAKE_SENDMAIL_EXIT:-0}
EOS
chmod 0755 "$work/sendmail"
rel() { "$MXW_BUILD/mxwarden" --daemon.state-dir="$state" --quarantine.release-via="sendmail:$work/sendmail" quarantine "$@"; }
FAKE_SENDMAIL_EXIT=1 rel release 2 2>"$work/rel.err" && fail "a failing sendmail counted as released"
grep -q "entry 2 not released: .*exited with status 1" "$work/rel.err" || fail "no clear message for a failing sendmail"
q show 2 --json | grep_all '"state":"held".*"event":"release-failed"' || fail "a failed release is not in the history"
rel release 2 | grep_all "released entry 2 via sendmail" || fail "release 2 via sendmail failed"
printf -- '-i\n-f\na@example.org\n--\nb@example.org\nc@example.org\n' | cmp -s - "$work/sendmail.argv" ||
    fail "sendmail argv: $(tr '\n' ' ' <"$work/sendmail.argv")"
head -n 1 "$work/sendmail.stdin" | grep -qx 'X-Mxwarden-Quarantine-Id: 2' || fail "the tracking header is not first"
tail -n +2 "$work/sendmail.stdin" | cmp -s - "$work/small" || fail "the released message differs from the stored one"
rel release 1 | grep_all "released entry 1" || fail "release of the null-sender entry failed"
grep -qx '<>' "$work/sendmail.argv" || fail "the null sender is not passed as <>"

# delete, purge, list filters, usage errors, unknown ids.
q delete 3 | grep_all 'deleted entry 3' || fail "delete 3"
rc=0; q cat 3 2>/dev/null || rc=$?
[[ $rc == 66 ]] || fail "cat of a deleted entry: exit $rc, want 66"
q list | grep_all '^2 ' && fail "a released entry is listed as held"
q list --state all | grep_all '^3 .* deleted ' || fail "list --state all does not show the deleted entry"
q list --since 1h --reason null-mx --state all --json | grep_all '"id":2' || fail "list filters lost entry 2"
q list --state all --sender 'A@Example.ORG' --json | grep_all '"id":2' || fail "list --sender lost entry 2"
q list --state all --sender '<>' --json | grep_all '"id":1' || fail "list --sender '<>' lost the null sender's entry 1"
q list --state all --sender '<>' --json | grep_all '"id":2' && fail "list --sender '<>' shows entry 2"
q list --state all --search 'SENDMAIL st' --json | grep_all '"id":2' || fail "list --search lost entry 2"
q list --state all --search 'sendmail%' --json | grep_all '"id":' && fail "list --search took % for a wildcard"
# The admin ran delete as root here (no sudo): the history names them.
q show 3 | grep_all "deleted .*by ${SUDO_USER:-$(id -un)}" || fail "the history does not name who deleted entry 3"
q purge --older-than 1h | grep_all 'purged 0 entries' || fail "purge removed recent entries"
sleep 1  # purge takes entries last changed before the cutoff, in whole seconds
q purge --older-than 0s | grep_all 'purged 3 entries' || fail "purge --older-than 0s should remove the two released and one deleted entry"
q show 1 >/dev/null 2>&1 && fail "entry 1 survived the purge"
q list | grep_all '^4 ' || fail "purge removed a held entry"
rc=0; q show 999 2>/dev/null || rc=$?
[[ $rc == 66 ]] || fail "show of an unknown id: exit $rc, want 66"
rc=0; q list --bogus 2>/dev/null || rc=$?
[[ $rc == 64 ]] || fail "unknown option: exit $rc, want 64"
rc=0; q show abc 2>/dev/null || rc=$?
[[ $rc == 64 ]] || fail "bad id: exit $rc, want 64"
rc=0; q list --since yesterday 2>/dev/null || rc=$?
[[ $rc == 64 ]] || fail "bad --since: exit $rc, want 64"

mxw_finish
