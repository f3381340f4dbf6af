#!/bin/bash
# Issue 4 end to end with a real Postfix: mail for an unroutable destination goes through the mxq pipe(8) transport
# into the quarantine with its reason and the daemon's evidence; `show` prints both; a release while the
# destination still fails comes back to its own entry; after the destination is fixed, a release delivers the
# message to smtp-sink exactly once.
#
#   sendmail -C --> Postfix --transport_maps inline:--> mxq (pipe, user mxwtest-q) --> mxwarden quarantine ingest
#                                                                                       |--> mxwardend (evidence)
#   mxwarden quarantine release --> SMTP 127.0.0.1:smtpd --> Postfix --> smtp-sink 127.0.0.1:P (once fixed)
#
# Free ports only: runs beside other tests.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/postfix.sh
source "$here/lib/postfix.sh"
# shellcheck source=lib/daemon.sh
source "$here/lib/daemon.sh"

mxw_begin quarantine_postfix_test
pf=$work/pf
state=$work/state
sink_dir=$work/sink
# grep -q stops reading at the first match; under pipefail the writer's SIGPIPE would then fail the check.
grep_all() { grep "$@" >/dev/null; }

read -r smtpd_port sink_port control_port policy_port dead_dns_port < <(mxw_free_port 5)
# pipe(8) refuses root and mail_owner: ingest runs as a user of its own, as it would as "mxwarden".
mxw_qa_state_dir "$state"

# The daemon's forwarder is a port nobody answers on: its evidence for the destination is a DNS timeout, as in
# seed 002. Its control socket is on TCP so the ingest user can reach it (a unix socket would be the daemon
# user's own, mode 0660).
mxw_start_daemon "$state" "$work/mxwardend.log" --dns.forwarders="127.0.0.1@$dead_dns_port" --dns.timeout=1s \
    --listen.control="inet:127.0.0.1:$control_port" --listen.policy="inet:127.0.0.1:$policy_port"
q() { "$MXW_BUILD/mxwarden" --daemon.state-dir="$state" --listen.control="inet:127.0.0.1:$control_port" \
    --quarantine.release-via="smtp:127.0.0.1:$smtpd_port" quarantine "$@"; }
# Warm the daemon's cache so the ingest's question (2 s budget) is answered from it.
mxw_cli --listen.control="inet:127.0.0.1:$control_port" route quarantined.mxw.test >/dev/null || true

mxw_postfix_create "$pf" "$smtpd_port"
mxw_postfix_conf "$pf" "transport_maps = inline:{ quarantined.mxw.test=mxq:dns-failure }" \
    "minimal_backoff_time = 2s" "maximal_backoff_time = 4s" "queue_run_delay = 2s"
# The mxq line of the README, with the test's state directory and control socket.
mxw_postfix_mxq "$pf" "$MXW_BUILD/mxwarden" --daemon.state-dir="$state" --listen.control="inet:127.0.0.1:$control_port"
mxw_postfix_start "$pf" 127.0.0.1

queue_empty() { mxw_postfix_queue_empty "$pf"; }

printf 'From: Sender <sender@mxw.test>\nSubject: q-e2e-1\nMessage-ID: <q-e2e-1@mxw.test>\n\nheld for release\n.leading dot\n' |
    sendmail -C "$pf/etc" -f sender@mxw.test user1@quarantined.mxw.test
has_entry() { q list --json | grep_all '"subject":"q-e2e-1"'; }
mxw_poll 20 has_entry || fail "the message did not reach the quarantine"
mxw_poll 10 queue_empty || fail "the queue is not empty after ingest"
echo "--- mxwarden quarantine list"
q list | tee "$work/list.txt"
grep -Eq '^1 +.* held +dns-failure +sender@mxw.test +user1@quarantined.mxw.test .*q-e2e-1' "$work/list.txt" ||
    fail "list does not show entry 1 with its reason, envelope and subject"
grep -q 'status=sent (delivered via mxq service (quarantined as entry 1))' "$pf/maillog" || fail "Postfix did not log the delivery to mxq"
echo "--- mxwarden quarantine show 1"
q show 1 | tee "$work/show.txt"
grep -q 'reason       dns-failure' "$work/show.txt" || fail "show lacks the reason"
grep -q 'queue id     [0-9A-F]' "$work/show.txt" || fail "show lacks the Postfix queue id"
grep -q '"dns_failing": true' "$work/show.txt" || fail "show lacks the daemon's DNS evidence"
grep -q 'Subject: q-e2e-1' "$work/show.txt" || fail "show lacks the headers"
q cat 1 | grep_all '^\.leading dot$' || fail "cat does not give the message as stored"

# Released while the destination still fails: Postfix routes it to mxq again, and it must come back to entry 1.
q release 1 || fail "release 1 (destination still failing) failed"
returned() { q show 1 --json | grep_all '"state":"held".*"attempts":2'; }
mxw_poll 20 returned || fail "the released message did not come back to entry 1 (attempts 2, held)"
[[ $(q list --state all --json | grep -o '"id":' | wc -l) == 1 ]] || fail "the returned message made a new entry"
q show 1 | grep_all 'returned' || fail "history lacks the return"

# The destination is fixed: it now goes to smtp-sink.
mxw_start_sink "$sink_dir" "127.0.0.1:$sink_port" postfix -h sink.mxw.test
mxw_postfix_conf "$pf" "transport_maps = inline:{ quarantined.mxw.test=smtp:[127.0.0.1]:$sink_port }"
mxw_postfix_restart "$pf" 127.0.0.1
q release --all-matching --reason dns-failure --dry-run | tee "$work/dry.txt"
grep -q 'would release entry 1 ' "$work/dry.txt" || fail "dry run does not name entry 1"
q release 1 | tee "$work/release.txt" || fail "release 1 failed"
grep -q 'released entry 1 via smtp:127.0.0.1' "$work/release.txt" || fail "release did not report the SMTP reply"
delivered() { mxw_sink_file "$sink_dir" q-e2e-1 20 >/dev/null; }
delivered || fail "the released message never reached smtp-sink"
mxw_poll 10 queue_empty || fail "the queue is not empty after release"
sleep 2
copies=$(grep -l 'Subject: q-e2e-1' "$sink_dir"/* 2>/dev/null | wc -l)
((copies == 1)) || fail "smtp-sink got $copies copies, want exactly 1"
grep -lq '^X-Mxwarden-Quarantine-Id: 1' "$sink_dir"/* || fail "the delivered copy lacks X-Mxwarden-Quarantine-Id"
q show 1 --json | grep_all '"state":"released"' || fail "entry 1 is not released"
q release 1 2>"$work/again.err" && fail "releasing a released entry succeeded"
grep -q 'was already released' "$work/again.err" || fail "a second release does not say why it refused"
echo "--- mxwarden quarantine stats"
q stats | tee "$work/stats.txt"
grep -Eq '^released +dns-failure +1 ' "$work/stats.txt" || fail "stats does not count the released entry"

((failures == 0)) || { echo "--- maillog" >&2; mxw_postfix_log "$pf" | tail -n 40 >&2; }
mxw_finish
