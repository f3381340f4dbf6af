#!/bin/bash
# Crash safety of `mxwarden quarantine ingest` under a real Postfix: the mxq pipe(8) command is a wrapper that
# SIGKILLs every other ingest at some moment (before reading, while reading, around the commit).
# Postfix defers those (a signal is a temporary failure) and tries again. Once the real ingest is back and the
# queue is empty, every message must be in the store exactly once and none bounced. Then several ingests run at
# once, outside Postfix, and all land.
#
# Free ports only: runs beside other tests.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/postfix.sh
source "$here/lib/postfix.sh"
# shellcheck source=lib/daemon.sh
source "$here/lib/daemon.sh"

mxw_begin quarantine_crash_test
qa_user=$MXW_QA_USER
messages=20
pf=$work/pf
state=$work/state
# grep -q stops reading at the first match; under pipefail the writer's SIGPIPE would then fail the check.
grep_all() { grep "$@" >/dev/null; }

read -r smtpd_port < <(mxw_free_port 1)
mxw_qa_state_dir "$state"
q() { "$MXW_BUILD/mxwarden" --daemon.state-dir="$state" quarantine "$@"; }

# The killer: runs the real ingest under `timeout -s KILL` for every other call, and dies by SIGKILL itself when its
# child did, so pipe(8) sees a signal (defer), not exit 137 (bounce). The delays cycle through fixed values from
# 1 ms (before the ingest reads anything) to 150 ms (past most commits), so every run kills some ingests at each
# stage: chosen at random, they could all land after the ingest has finished, and the test would prove nothing.
cat >"$work/killer.sh" <<EOS
#!/bin/bash
delays=(0.001 0.020 0.040 0.060 0.080 0.100 0.150)
# Up to 10 calls run at once; the lock makes each call's number its own.
n=\$(flock "$work/killer.count" bash -c 'n=\$((\$(cat "\$1") + 1)); echo "\$n" >"\$1"; echo "\$n"' _ "$work/killer.count")
if ((n % 2)); then
    delay=\${delays[n / 2 % \${#delays[@]}]}
    echo "kill after \$delay s" >>"$work/killer.log"
    rc=0
    timeout -s KILL "\$delay" "$MXW_BUILD/mxwarden" "\$@" || rc=\$?
    if ((rc == 137)); then echo killed >>"$work/killer.log"; kill -KILL \$\$; fi
    exit "\$rc"
fi
exec "$MXW_BUILD/mxwarden" "\$@"
EOS
chmod 0755 "$work/killer.sh"
echo 0 >"$work/killer.count"
touch "$work/killer.log" && chown "$qa_user:" "$work/killer.log" "$work/killer.count"

mxw_postfix_create "$pf" "$smtpd_port"
# Short backoff so deferred mail comes back quickly; a failed cohort must not throttle the whole transport.
mxw_postfix_conf "$pf" "transport_maps = inline:{ quarantined.mxw.test=mxq:dns-failure }" \
    "minimal_backoff_time = 1s" "maximal_backoff_time = 2s" "queue_run_delay = 1s" \
    "mxq_destination_concurrency_failed_cohort_limit = 1000" "mxq_destination_recipient_limit = 1"
mxw_postfix_mxq "$pf" "$work/killer.sh" --daemon.state-dir="$state"
mxw_postfix_start "$pf" 127.0.0.1

queue_empty() { mxw_postfix_queue_empty "$pf"; }

# All at once: up to 10 ingests run side by side (the mxq process limit), some of them killed.
for ((i = 1; i <= messages; i++)); do
    sender=sender@mxw.test
    ((i % 5)) || sender=''  # bounces (the null sender) go to the quarantine too
    printf 'From: sender@mxw.test\nSubject: crash-%d\nMessage-ID: <crash-%d@mxw.test>\n\nmessage %d\n' "$i" "$i" "$i" |
        sendmail -C "$pf/etc" -f "$sender" "user$i@quarantined.mxw.test" &
done
wait

# Rounds with the killer in place, then the real ingest until the queue is empty.
for _ in 1 2 3 4 5; do
    sleep 2
    postqueue -c "$pf/etc" -f >/dev/null 2>&1 || true
done
mxw_postfix_mxq "$pf" "$MXW_BUILD/mxwarden" --daemon.state-dir="$state"
# A restart, not a reload: an ingest cut short by it must come back (see mxw_postfix_restart).
mxw_postfix_restart "$pf" 127.0.0.1
for ((i = 0; i < 30; i++)); do
    queue_empty && break
    postqueue -c "$pf/etc" -f >/dev/null 2>&1 || true
    sleep 1
done
queue_empty || fail "the queue is not empty after 30 s with the real ingest: $(postqueue -c "$pf/etc" -p | tail -n 3)"

kills=$(grep -c '^killed' "$work/killer.log" || true)
tries=$(grep -c '^kill after' "$work/killer.log" || true)
dups=$(grep -c 'already quarantined' "$pf/maillog" || true)
echo "ingests run under the killer: $tries, killed: $kills; redeliveries of a committed message: $dups"
((kills > 0)) || fail "no ingest was killed: the test proved nothing"
grep -q 'status=bounced' "$pf/maillog" && fail "Postfix bounced mail: $(grep 'status=bounced' "$pf/maillog" | head -n 3)"

q list --state all --json >"$work/list.json"
for ((i = 1; i <= messages; i++)); do
    n=$(grep -o "\"subject\":\"crash-$i\"" "$work/list.json" | wc -l)
    ((n == 1)) || fail "crash-$i is in the store $n times, want exactly 1"
done
total=$(grep -o '"id":' "$work/list.json" | wc -l)
((total == messages)) || fail "the store has $total entries, want $messages"

# The same delivery twice (a crash between commit and exit) is stored once.
one() { printf 'Subject: twice\n\nsame bytes\n' | runuser -u "$qa_user" -- "$MXW_BUILD/mxwarden" --daemon.state-dir="$state" \
    quarantine ingest --queue-id TWICE1 --reason dns-failure --sender a@mxw.test -- b@quarantined.mxw.test; }
one >/dev/null && one | grep_all 'already quarantined' || fail "a repeated delivery was not recognised"

# Concurrent ingests outside Postfix, all writers at once: the busy timeout queues them.
pids=()
for ((i = 1; i <= 12; i++)); do
    printf 'Subject: parallel-%d\n\n%s\n' "$i" "$(head -c 20000 /dev/zero | tr '\0' x)" |
        runuser -u "$qa_user" -- "$MXW_BUILD/mxwarden" --daemon.state-dir="$state" quarantine ingest \
            --queue-id "PAR$i" --reason parallel --sender a@mxw.test -- "p$i@quarantined.mxw.test" >/dev/null &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent ingest exited $?"; done
n=$(q list --reason parallel --json | grep -o '"id":' | wc -l)
((n == 12)) || fail "$n of 12 concurrent ingests landed"

((failures == 0)) || mxw_postfix_log "$pf" | tail -n 30 >&2
mxw_finish
