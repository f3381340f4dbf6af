#!/bin/bash
# Issue 12, the quarantine of a fleet on a real PostgreSQL 15: three nodes (each its own configuration file, state
# directory and store.node) share one store.
#
#   sendmail -C --> Postfix A --mxq (pipe)--> mxwarden -c node2.conf quarantine ingest --> PostgreSQL
#   mxwarden -c node3.conf quarantine release --> SMTP --> Postfix B --> smtp-sink (once)
#
# 1. A message quarantined through node 2's mxq is listed on node 1 and node 3 with the node that took it, and
#    released from node 3: delivered once.
# 2. Two nodes release the same 100 entries at once (--all-matching): each delivered exactly once.
# 3. PostgreSQL stopped in the middle of a run of ingests through Postfix: every message is either stored or
#    deferred by Postfix (ingest exits 75) and stored after the restart; counted, nothing lost or doubled.
# 4. PostgreSQL killed with -9 during a release: nothing is lost; a second release finishes the rest, and only
#    the entry that was in flight at the kill may reach the MTA twice (the documented takeover case).
# 5. A node killed during an ingest leaves no entry; the MTA's retry stores it once.
#
# Free ports only: runs beside other tests.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/postfix.sh
source "$here/lib/postfix.sh"
# shellcheck source=lib/pg.sh
source "$here/lib/pg.sh"
# shellcheck source=lib/smtp.sh
source "$here/lib/smtp.sh"

mxw_begin fleet_quarantine_test
grep_all() { grep "$@" >/dev/null; }

read -r smtpd_a smtpd_b sink_port < <(mxw_free_port 3)
mxw_start_pg "$work/pg"

# The stand-in for the MTA's sendmail of cases 2 and 4: one line per delivery with the entry id (short enough
# for one O_APPEND write, so concurrent releases never interleave), after a little dawdling so releases overlap.
cat >"$work/sendmail" <<EOS
#!/bin/bash
id=\$(head -n 1 | sed -n 's/^X-Mxwarden-Quarantine-Id: //p')
cat >/dev/null
sleep "0.0\$((RANDOM % 5))"
echo "\$id" >>"$work/deliveries"
EOS
chmod 0755 "$work/sendmail"
touch "$work/deliveries"

for n in 1 2 3; do
    mxw_qa_state_dir "$work/node$n"
    cat >"$work/node$n.conf" <<EOF
[daemon]
state-dir = $work/node$n
[store]
url = $MXW_PG_URL
node = mta-$n
[quarantine]
release-via = smtp:127.0.0.1:$smtpd_b
EOF
    chmod 0644 "$work/node$n.conf"
done
node() { # node N [--section.key=value...] VERB ARGS...: the quarantine CLI of node N
    local n=$1 overrides=()
    shift
    while [[ $1 == --*.*=* ]]; do overrides+=("$1"); shift; done
    "$MXW_BUILD/mxwarden" -c "$work/node$n.conf" "${overrides[@]}" quarantine "$@"
}
count_subject() { node 1 list --state all --json | grep -o "\"subject\":\"$1\"" | wc -l; }

# Postfix A quarantines everything for quarantined.mxw.test through node 2; Postfix B delivers it to smtp-sink.
pfa=$work/pfa
pfb=$work/pfb
mxw_postfix_create "$pfa" "$smtpd_a"
# Short backoff so deferred mail comes back quickly; a failed cohort must not throttle the whole transport.
mxw_postfix_conf "$pfa" "transport_maps = inline:{ quarantined.mxw.test=mxq:dns-failure }" \
    "minimal_backoff_time = 1s" "maximal_backoff_time = 2s" "queue_run_delay = 1s" \
    "mxq_destination_concurrency_failed_cohort_limit = 1000" "mxq_destination_recipient_limit = 1"
mxw_postfix_mxq "$pfa" "$MXW_BUILD/mxwarden" -c "$work/node2.conf"
mxw_postfix_start "$pfa" 127.0.0.1
mxw_postfix_create "$pfb" "$smtpd_b"
mxw_postfix_conf "$pfb" "transport_maps = inline:{ quarantined.mxw.test=smtp:[127.0.0.1]:$sink_port }"
mxw_postfix_start "$pfb" 127.0.0.1
mxw_start_sink "$work/sink" "127.0.0.1:$sink_port"

echo "--- 1. quarantined on node 2, listed everywhere, released from node 3"
printf 'From: <sender@mxw.test>\nSubject: fleet-1\nMessage-ID: <fleet-1@mxw.test>\n\nheld on node 2\n' |
    sendmail -C "$pfa/etc" -f sender@mxw.test user1@quarantined.mxw.test
stored() { [[ $(count_subject "$1") == 1 ]]; }
mxw_poll 30 stored fleet-1 || fail "the message did not reach the shared quarantine"
id=$(node 3 list --json | sed -n 's/.*"id":\([0-9]*\),.*"subject":"fleet-1".*/\1/p')
[[ -n $id ]] || fail "node 3 does not list the entry node 2 took"
node 1 list | tee "$work/list1.txt"
grep -Eq "^$id +.* held +mta-2 +dns-failure +sender@mxw.test +user1@quarantined.mxw.test .*fleet-1" "$work/list1.txt" ||
    fail "node 1's list does not show entry $id with the node that took it"
node 3 list --json | grep_all "\"node\":\"mta-2\"" || fail "list --json lacks the node"
node 3 release "$id" | tee "$work/release1.txt" || fail "release from node 3 failed"
grep -q "released entry $id via smtp:127.0.0.1:$smtpd_b" "$work/release1.txt" || fail "release did not report the SMTP reply"
mxw_sink_file "$work/sink" fleet-1 30 >/dev/null || fail "the released message never reached smtp-sink"
sleep 2
copies=$(grep -l '^Subject: fleet-1$' "$work/sink"/* 2>/dev/null | wc -l)
((copies == 1)) || fail "smtp-sink got $copies copies of fleet-1, want exactly 1"
node 2 show "$id" --json | grep_all '"state":"released"' || fail "node 2 does not see entry $id released"
node 2 release "$id" 2>"$work/again.err" && fail "node 2 released an entry node 3 released"
grep -q 'was already released' "$work/again.err" || fail "the second release does not say why it refused"

echo "--- 2. two nodes release the same 100 entries at once"
for ((i = 1; i <= 100; i++)); do
    printf 'Subject: race-%s\n\nbody %s\n' "$i" "$i" |
        node 2 ingest --queue-id "R$i" --reason race --sender a@example.org -- b@example.org >/dev/null ||
        fail "ingest race-$i failed"
done
rc1=0 rc3=0
node 1 --quarantine.release-via="sendmail:$work/sendmail" release --all-matching --reason race \
    >"$work/r1.out" 2>"$work/r1.err" &
p1=$!
node 3 --quarantine.release-via="sendmail:$work/sendmail" release --all-matching --reason race \
    >"$work/r3.out" 2>"$work/r3.err" &
p3=$!
wait "$p1" || rc1=$?
wait "$p3" || rc3=$?
for rc in "$rc1" "$rc3"; do
    [[ $rc == 0 || $rc == 65 ]] || fail "a concurrent release exited $rc: $(cat "$work"/r[13].err)"
done
dups=$(sort "$work/deliveries" | uniq -d | wc -l)
total=$(wc -l <"$work/deliveries")
((total == 100 && dups == 0)) || fail "$total deliveries with $dups doubled, want 100 distinct"
won1=$(grep -c '^released entry ' "$work/r1.out" || true)
won3=$(grep -c '^released entry ' "$work/r3.out" || true)
echo "concurrent release: node 1 sent $won1, node 3 sent $won3, 100 distinct deliveries"
((won1 + won3 == 100)) || fail "the two releases reported $won1 + $won3 sends, want 100"
[[ $(node 2 list --reason race --json | grep -o '"id":' | wc -l) == 0 ]] || fail "race entries are still held"

echo "--- 3. PostgreSQL stopped in the middle of a run of ingests"
for ((i = 1; i <= 20; i++)); do
    printf 'Subject: outage-%s\n\nduring the outage\n' "$i" |
        sendmail -C "$pfa/etc" -f sender@mxw.test "user$i@quarantined.mxw.test"
    ((i == 8)) && mxw_stop_pg
done
deferred() { mxw_postfix_log "$pfa" | grep_all 'status=deferred .*quarantine unavailable'; }
mxw_poll 30 deferred || fail "no ingest was deferred while PostgreSQL was down"
# Meanwhile doctor and --check-config say so (a store that is down is a warning for the daemon, not an error).
"$MXW_BUILD/mxwarden" -c "$work/node1.conf" doctor >"$work/doctor-down.txt" 2>&1 || true
grep -q 'FAIL  postgresql .* as mta-1: not reachable: PostgreSQL' "$work/doctor-down.txt" || fail "doctor does not report the unreachable store"
grep -q 'ingest answers 75' "$work/doctor-down.txt" || fail "doctor does not say what it means for mail"
"$MXW_BUILD/mxwardend" -c "$work/node1.conf" --check-config >"$work/check-down.txt" 2>&1 ||
    fail "--check-config failed while only the store was down: $(cat "$work/check-down.txt")"
grep -q 'warning: store postgresql .* is unreachable now' "$work/check-down.txt" ||
    fail "--check-config does not warn about the unreachable store: $(cat "$work/check-down.txt")"
mxw_restart_pg
postqueue -c "$pfa/etc" -f
all_stored() {
    local i
    for ((i = 1; i <= 20; i++)); do stored "outage-$i" || return 1; done
}
mxw_poll 60 all_stored || fail "not every message of the outage was stored once after the restart"
mxw_poll 20 mxw_postfix_queue_empty "$pfa" || fail "Postfix A's queue is not empty after the restart"
n_deferred=$(mxw_postfix_log "$pfa" | grep -c 'status=deferred .*quarantine unavailable' || true)
echo "outage: 20 messages, $n_deferred deferred attempts while PostgreSQL was down, each stored exactly once"

echo "--- 4. PostgreSQL killed with -9 during a release"
: >"$work/deliveries"
for ((i = 1; i <= 20; i++)); do
    printf 'Subject: kill-%s\n\nbody\n' "$i" |
        node 2 ingest --queue-id "K$i" --reason kill --sender a@example.org -- b@example.org >/dev/null
done
# Each delivery takes about 0.1 s here, so the kill lands in the middle of the run.
cat >"$work/slow-sendmail" <<EOS
#!/bin/bash
id=\$(head -n 1 | sed -n 's/^X-Mxwarden-Quarantine-Id: //p')
cat >/dev/null
sleep 0.1
echo "\$id" >>"$work/deliveries"
EOS
chmod 0755 "$work/slow-sendmail"
node 3 --quarantine.release-via="sendmail:$work/slow-sendmail" release --all-matching --reason kill \
    >"$work/k1.out" 2>"$work/k1.err" &
pk=$!
mxw_poll 20 sh -c "[ \$(wc -l <'$work/deliveries') -ge 5 ]" || fail "the release did not start delivering"
mxw_kill_pg
rck=0
wait "$pk" || rck=$?
((rck != 0)) || fail "a release whose database was killed under it exited 0"
first=$(wc -l <"$work/deliveries")
mxw_restart_pg
# What the killed run left releasing is its own claim (pid gone): the next release takes it over.
node 3 --quarantine.release-via="sendmail:$work/slow-sendmail" release --all-matching --reason kill \
    >"$work/k2.out" 2>"$work/k2.err" || true
for id in $(node 3 list --state releasing --json | grep -o '"id":[0-9]*' | cut -d: -f2); do
    node 3 --quarantine.release-via="sendmail:$work/slow-sendmail" release "$id" >>"$work/k2.out" 2>>"$work/k2.err" ||
        fail "the takeover release of entry $id failed: $(cat "$work/k2.err")"
done
left=$(node 3 list --state all --reason kill --json | grep -o '"state":"[a-z]*"' | sort | uniq -c | tr -s ' ')
[[ $left == " 20 \"state\":\"released\"" ]] || fail "not every entry ended released after the kill: $left"
distinct=$(sort -u "$work/deliveries" | wc -l)
dups=$(sort "$work/deliveries" | uniq -d | wc -l)
((distinct == 20)) || fail "$distinct of 20 entries delivered after the kill"
((dups <= 1)) || fail "$dups entries delivered twice, want at most the one in flight at the kill"
echo "kill -9 during release: $first delivered before the kill, all 20 after; $dups delivered twice"

echo "--- 5. a node killed during an ingest"
mkfifo "$work/half"
# The binary itself in the background, not the shell function: the kill must reach the ingest process.
"$MXW_BUILD/mxwarden" -c "$work/node2.conf" quarantine ingest --queue-id HALF --reason crash --sender a@example.org \
    -- b@example.org <"$work/half" >"$work/half.out" 2>&1 &
ph=$!
exec {fd}>"$work/half"
printf 'Subject: half\n\nthe first half' >&"$fd"
sleep 0.5
kill -KILL "$ph"
wait "$ph" 2>/dev/null || true
exec {fd}>&-
[[ $(count_subject half) == 0 ]] || fail "a killed ingest left an entry"
printf 'Subject: half\n\nthe whole message\n' |
    node 2 ingest --queue-id HALF --reason crash --sender a@example.org -- b@example.org >/dev/null ||
    fail "the retried ingest failed"
[[ $(count_subject half) == 1 ]] || fail "the retried ingest did not store the message once"

echo "--- 6. a schema newer than this mxwarden"
"$MXW_BUILD/mxwardend" -c "$work/node1.conf" --check-config >/dev/null 2>&1 || fail "--check-config failed"
mxw_psql "UPDATE mxwarden.schema SET version = version + 100 WHERE component = 'quarantine'"
rc=0
"$MXW_BUILD/mxwardend" -c "$work/node1.conf" --check-config >"$work/check-newer.txt" 2>&1 || rc=$?
((rc == 78)) || fail "--check-config of a newer schema exited $rc, want 78"
grep -q 'newer than this mxwarden' "$work/check-newer.txt" || fail "no word of the newer schema: $(cat "$work/check-newer.txt")"
rc=0
printf 'Subject: newer\n\nx\n' | node 2 ingest --reason newer --sender a@example.org -- b@example.org >"$work/newer.out" || rc=$?
((rc == 75)) || fail "ingest into a newer schema exited $rc, want 75 (the MTA keeps the mail)"
mxw_psql "UPDATE mxwarden.schema SET version = version - 100 WHERE component = 'quarantine'"

((failures == 0)) || { echo "--- maillog A" >&2; mxw_postfix_log "$pfa" | tail -n 40 >&2; }
mxw_finish
