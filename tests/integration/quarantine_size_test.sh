#!/bin/bash
# The size of the quarantine store: with quarantine.max-size reached, `ingest` exits 75 with "4.3.0 quarantine
# full" (the MTA keeps the mail) and stores nothing; `mxwarden doctor` warns from 80% of the limit; mxwardend's
# metrics show the bytes in use and the limit; and the file shrinks on disk after delete and purge.
#
# Free ports only: runs beside anything.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/dns.sh
source "$here/lib/dns.sh"
# shellcheck source=lib/daemon.sh
source "$here/lib/daemon.sh"

mxw_begin quarantine_size_test
state=$work/state
mkdir -p "$state"

q() { "$MXW_BUILD/mxwarden" --daemon.state-dir="$state" quarantine "$@"; }
count() { q list --state all --json | grep -o '"id":' | wc -l; }
# ingest TAG SIZE [options]: a message of about SIZE bytes; sets rc and out.
ingest() {
    local tag=$1 size=$2
    shift 2
    rc=0
    out=$({ printf 'Subject: %s\n\n' "$tag"; head -c "$size" /dev/urandom | base64; } |
        "$MXW_BUILD/mxwarden" --daemon.state-dir="$state" "$@" quarantine ingest --queue-id "$tag" --reason size \
            --sender a@example.org -- b@example.org 2>&1) || rc=$?
}

# A tiny limit: even a new, empty store is over it. 75, the 4.3.0 text, nothing stored.
ingest T1 1000 --quarantine.max-size=1K
[[ $rc == 75 ]] || fail "ingest into a full store exited $rc, want 75 ($out)"
grep -q '^4\.3\.0 quarantine full ([0-9]* bytes in use, limit 1024)$' <<<"$out" || fail "no 4.3.0 quarantine full: $out"
[[ $(count) == 0 ]] || fail "a refused ingest stored something"
# Room again (the default, auto): the same message goes in.
ingest T1 1000
[[ $rc == 0 ]] || fail "ingest with the default limit exited $rc ($out)"
[[ $(count) == 1 ]] || fail "the store should hold 1 entry, has $(count)"
ingest T2 200000 --quarantine.max-size=100K
[[ $rc == 75 ]] || fail "a message past the limit exited $rc, want 75 ($out)"
[[ $(count) == 1 ]] || fail "the refused message was stored"

# doctor: what it reports as in use, then a limit 10% above that (warn) and one twice that (ok).
doctor() {
    out=$("$MXW_BUILD/mxwarden" --daemon.state-dir="$state" doctor --timeout 1s --helo-name mta.example.org \
        --outbound-ip 127.0.0.20 --postfix-config "$work/nopf" --dns.forwarders=127.0.0.1@9 "$@" 2>&1) || true
}
mkdir -p "$work/nopf"
doctor --quarantine.max-size=1G
used=$(sed -n 's/^ *ok *size: \([0-9]*\) of 1073741824 bytes (0% of quarantine.max-size)$/\1/p' <<<"$out")
[[ -n $used ]] || fail "doctor does not report the store's size: $out"
used=${used:-100000}
doctor --quarantine.max-size=$((used * 11 / 10))
grep -qE "^ *warn +size: $used of $((used * 11 / 10)) bytes \(90% of quarantine.max-size\)" <<<"$out" ||
    fail "doctor does not warn at 90%: $(grep -A1 'size:' <<<"$out")"
grep -q 'raise quarantine.max-size' <<<"$out" || fail "doctor's warning has no fix"
doctor --quarantine.max-size=$((used * 2))
grep -qE "^ *ok +size: $used of $((used * 2)) bytes \(50% of quarantine.max-size\)" <<<"$out" ||
    fail "doctor should be content at 50%: $(grep 'size:' <<<"$out")"
doctor
grep -qE "^ *ok +size: $used of [0-9]+ bytes \([0-9]+% of quarantine.max-size, auto\)" <<<"$out" ||
    fail "doctor does not show the auto limit: $(grep 'size:' <<<"$out")"

# The daemon's metrics: bytes in use and the limit, from its store upkeep.
read -r metrics_port < <(mxw_free_port 1)
mxw_start_daemon "$state" "$work/mxwardend.log" --dns.forwarders=127.0.0.1@9 \
    --listen.metrics="inet:127.0.0.1:$metrics_port" --quarantine.max-size=5M
body=
for ((i = 0; i < 50; i++)); do
    body=$(curl -fsS "http://127.0.0.1:$metrics_port/metrics" || true)
    grep -q '^mxwarden_quarantine_max_bytes' <<<"$body" && break
    sleep 0.1
done
grep -qx 'mxwarden_quarantine_max_bytes 5242880' <<<"$body" || fail "no mxwarden_quarantine_max_bytes 5242880"
grep -qx "mxwarden_quarantine_bytes $used" <<<"$body" ||
    fail "mxwarden_quarantine_bytes is not $used: $(grep quarantine_bytes <<<"$body")"
mxw_stop_daemon

# Fill, then delete half and purge the rest: the file gets smaller each time.
for ((i = 1; i <= 30; i++)); do ingest "F$i" 100000; done
[[ $(count) == 31 ]] || fail "the fill stored $(count) of 31 entries"
full=$(stat -c %s "$state/quarantine.db")
for ((i = 2; i <= 16; i++)); do q delete "$i" >/dev/null; done
deleted=$(stat -c %s "$state/quarantine.db")
((deleted < full * 3 / 4)) || fail "delete did not shrink the store: $full -> $deleted bytes"
sleep 1 # purge takes entries last changed before the cutoff, in whole seconds
q purge --older-than 0s --include-held | grep -q 'purged 31 entries' || fail "purge did not remove everything"
purged=$(stat -c %s "$state/quarantine.db")
((purged < 200000)) || fail "the store is still $purged bytes after purging everything"
echo "store file: $full bytes full, $deleted after deleting 15 of 31, $purged after purging all"

mxw_finish
