#!/bin/bash
# `mxwarden quarantine release` run by two admins at once: in each of many rounds two releases of the same entries
# start together against a sendmail stand-in that counts deliveries (and dawdles a little, so the two overlap).
# Every entry must be delivered exactly once, every run must exit 0 or 65, and a loser must say "already being
# released" or "already released". Then the crash case: a release killed after its claim leaves the entry
# "releasing"; once that process is gone, the next release takes it over, warns, and sends it.
#
# No daemons, no ports: runs beside anything.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/common.sh
source "$here/lib/common.sh"
rounds=${MXW_RACE_ROUNDS:-30}
per_round=4

mxw_begin quarantine_release_race_test
state=$work/state
mkdir -p "$state"

# The stand-in: one line per delivery, the entry id taken from the tracking header release puts first. A line
# this short is one write(2) with O_APPEND, so concurrent deliveries never interleave.
cat >"$work/sendmail" <<EOS
#!/bin/bash
id=\$(head -n 1 | sed -n 's/^X-Mxwarden-Quarantine-Id: //p')
cat >/dev/null
sleep "0.0\$((RANDOM % 5))"
echo "\$id" >>"$work/deliveries"
EOS
chmod 0755 "$work/sendmail"
touch "$work/deliveries"

q() { "$MXW_BUILD/mxwarden" --daemon.state-dir="$state" --quarantine.release-via="sendmail:$work/sendmail" quarantine "$@"; }
ingest() { # ingest TAG: prints the new entry's id
    printf 'Subject: %s\n\nbody of %s\n' "$1" "$1" |
        q ingest --queue-id "$1" --reason race --sender a@example.org -- b@example.org | sed -n 's/^quarantined as entry //p'
}

all_ids=()
for ((r = 1; r <= rounds; r++)); do
    ids=()
    for ((i = 1; i <= per_round; i++)); do ids+=("$(ingest "R$r-$i")"); done
    all_ids+=("${ids[@]}")
    # The second run names the entries in the opposite order, so the two meet in the middle.
    rev=()
    for ((i = ${#ids[@]} - 1; i >= 0; i--)); do rev+=("${ids[i]}"); done
    rc1=0 rc2=0
    q release "${ids[@]}" >"$work/r$r.a.out" 2>"$work/r$r.a.err" &
    p1=$!
    q release "${rev[@]}" >"$work/r$r.b.out" 2>"$work/r$r.b.err" &
    p2=$!
    wait "$p1" || rc1=$?
    wait "$p2" || rc2=$?
    for rc in "$rc1" "$rc2"; do
        [[ $rc == 0 || $rc == 65 ]] || fail "round $r: a release exited $rc: $(cat "$work/r$r".*.err)"
    done
    for id in "${ids[@]}"; do
        n=$(cat "$work/r$r.a.out" "$work/r$r.b.out" | grep -c "^released entry $id " || true)
        ((n == 1)) || fail "round $r: entry $id reported released $n times"
        n=$(cat "$work/r$r.a.err" "$work/r$r.b.err" | grep -cE "entry $id (is already being released|was already released)" || true)
        ((n == 1)) || fail "round $r: entry $id: $n 'already' messages, want 1: $(cat "$work/r$r".*.err)"
    done
    # Exit 65 exactly when that run lost at least one entry.
    for side in a b; do
        rc=$([[ $side == a ]] && echo "$rc1" || echo "$rc2")
        if [[ -s $work/r$r.$side.err ]]; then
            [[ $rc == 65 ]] || fail "round $r: run $side lost an entry but exited $rc"
        else
            [[ $rc == 0 ]] || fail "round $r: run $side exited $rc without saying why"
        fi
    done
done

# Each message exactly once.
for id in "${all_ids[@]}"; do
    n=$(grep -cx "$id" "$work/deliveries" || true)
    ((n == 1)) || fail "entry $id was delivered $n times, want exactly 1"
done
total=$(wc -l <"$work/deliveries")
((total == rounds * per_round)) || fail "$total deliveries for $((rounds * per_round)) entries"
left=$(q list --state all --json | grep -o '"state":"[a-z]*"' | sort | uniq -c | tr -s ' ')
[[ $left == " $((rounds * per_round)) \"state\":\"released\"" ]] || fail "not every entry ended released: $left"
busy=$(cat "$work"/r*.err | grep -c 'already being released' || true)
done_=$(cat "$work"/r*.err | grep -c 'already released' || true)
echo "release race: $rounds rounds of two concurrent releases, $total deliveries, each entry once;" \
    "the loser found the entry being released $busy times, released $done_ times"
((busy > 0)) || fail "the two releases never met on a claimed entry: the race was not exercised"

# Crash mid-release: the stand-in SIGKILLs the release that runs it, after the claim and before the MTA takes it.
cat >"$work/crashing-sendmail" <<'EOS'
#!/bin/bash
cat >/dev/null
kill -KILL "$PPID"
sleep 5
exit 1
EOS
chmod 0755 "$work/crashing-sendmail"
id=$(ingest CRASH)
rc=0
"$MXW_BUILD/mxwarden" --daemon.state-dir="$state" --quarantine.release-via="sendmail:$work/crashing-sendmail" \
    quarantine release "$id" >/dev/null 2>&1 || rc=$?
((rc == 137)) || fail "the crashing release exited $rc, want 137 (killed)"
q list --state releasing | grep -q "^$id " || fail "entry $id is not left releasing after the crash"
out=$(q release "$id" 2>&1) || fail "release after a crashed release failed: $out"
grep -q "the release by pid [0-9]* at .* did not finish" <<<"$out" || fail "no warning about the stale claim: $out"
grep -q "^released entry $id " <<<"$out" || fail "entry $id was not released after the crash: $out"
n=$(grep -cx "$id" "$work/deliveries" || true)
((n == 1)) || fail "entry $id delivered $n times after the crash, want 1"
q show "$id" | grep -q "releasing .*took over the claim of pid=" || fail "the history does not show the takeover"

# A live claim is respected: a slow release holds the entry while a second one tries.
cat >"$work/slow-sendmail" <<EOS
#!/bin/bash
cat >/dev/null
sleep 2
echo slow >>"$work/deliveries"
EOS
chmod 0755 "$work/slow-sendmail"
id=$(ingest SLOW)
"$MXW_BUILD/mxwarden" --daemon.state-dir="$state" --quarantine.release-via="sendmail:$work/slow-sendmail" \
    quarantine release "$id" >"$work/slow.out" 2>&1 &
slow=$!
for ((i = 0; i < 50; i++)); do
    q list --state releasing | grep -q "^$id " && break
    sleep 0.1
done
rc=0
out=$(q release "$id" 2>&1) || rc=$?
((rc == 65)) || fail "a release of an entry being released exited $rc, want 65"
grep -q "entry $id is already being released (by pid $slow since " <<<"$out" || fail "no 'already being released': $out"
wait "$slow" || fail "the slow release failed: $(cat "$work/slow.out")"
rc=0
out=$(q release "$id" 2>&1) || rc=$?
((rc == 65)) || fail "a release of a released entry exited $rc, want 65"
grep -q "entry $id was already released" <<<"$out" || fail "no 'already released': $out"

mxw_finish
