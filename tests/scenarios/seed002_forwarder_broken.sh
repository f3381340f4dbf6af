#!/bin/bash
# Seed 002: the DNS forwarder is misconfigured and never answers. Stock Postfix keeps the mail in its queue, with
# no bounce and nothing but a deferral line in the log, until it expires days later. With mxwarden the failure is
# logged at once with the server, the transport and the outcome; after routing.quarantine-after (5 s here) the
# mail is in the quarantine with that evidence instead of the queue; once the forwarder is fixed, `release`
# delivers it.
#
#   DNS: faultdns 127.0.0.10:53, first silent (UDP and TCP), then answering --> nsd
#   MX: good.mxw.test -> 127.0.0.2:25 (a fixture that takes the message)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
mxw_begin seed002

read -r ns_port smap_port policy_port control_port < <(mxw_free_port 4)
mxw_start_nsd "$work/nsd" "$ns_port"
mxw_start_faultdns "$work/dns" 53 "$ns_port" --addr 127.0.0.10 --udp silent --tcp silent
silent_pid=$MXW_FAULTDNS_PID
mxw_start_smtp_peers "$work/peers.log" 127.0.0.2:25=ok

# --- without mxwarden
pf_instance "$work/stock"
mxw_postfix_start "$work/stock" 127.0.0.10
submit "$work/stock" seed002-stock user@good.mxw.test
stock_deferred "$work/stock" seed002-stock
show "without mxwarden: the message waits in the queue (no bounce, no other event), with:" "$reason"

# --- with mxwarden
state=$work/state
mxw_qa_state_dir "$state"
mxw_start_daemon "$state" "$work/mxwardend.log" --dns.forwarders=127.0.0.10@53 --dns.timeout=1s \
    --listen.policy="inet:127.0.0.1:$policy_port" --listen.socketmap="inet:127.0.0.1:$smap_port" \
    --listen.control="inet:127.0.0.1:$control_port" --routing.deny-addresses=0.0.0.0/8 \
    --routing.quarantine-after=5s --routing.dns-retry=2s --routing.answer-budget=2s
pf_instance "$work/mxw"
mxw_postfix_conf "$work/mxw" "transport_maps = socketmap:inet:127.0.0.1:$smap_port:transport"
mxw_postfix_mxw "$work/mxw" -o smtp_helo_timeout=10s
mxw_postfix_mxq "$work/mxw" "$MXW_BUILD/mxwarden" --daemon.state-dir="$state" --listen.control="inet:127.0.0.1:$control_port"
mxw_postfix_start "$work/mxw" 127.0.0.10
start=$SECONDS
submit "$work/mxw" seed002-mxw user@good.mxw.test
mxw_wait_log 10 "$work/mxwardend.log" 'event=route-dns-failure domain=good.mxw.test' ||
    fail "the daemon did not log the DNS failure"
show "with mxwarden, at once (after $((SECONDS - start)) s):" \
    "$(grep -m1 'event=route-dns-failure domain=good.mxw.test' "$work/mxwardend.log")"
grep -q 'event=route-dns-failure domain=good.mxw.test .*timeout.*servers=127.0.0.10@53 transport=udp-then-tcp' \
    "$work/mxwardend.log" || fail "the failure does not name the server and transport"

# After routing.quarantine-after the answer is mxq:dns-failure. trivial-rewrite keeps its last answer for a
# recipient until its process ends (max_idle, 100 s; the retries keep it busy), so once the daemon answers mxq
# Postfix restarts (a reload could leave the message with the old processes, see mxw_postfix_restart), and its
# next try goes to the quarantine.
q() { "$MXW_BUILD/mxwarden" --daemon.state-dir="$state" --listen.control="inet:127.0.0.1:$control_port" \
    --quarantine.release-via="smtp:127.0.0.1:$smtpd_port" quarantine "$@"; }
held() { [[ $(q list --json 2>/dev/null) == *seed002-mxw* ]]; }
quarantine_answer() {
    [[ $(postmap -c "$work/mxw/etc" -q user@good.mxw.test "socketmap:inet:127.0.0.1:$smap_port:transport") == mxq:* ]]
}
mxw_poll 30 quarantine_answer || fail "after routing.quarantine-after the daemon does not answer mxq"
mxw_postfix_restart "$work/mxw" 127.0.0.10
mxw_poll 30 held || fail "after routing.quarantine-after the message is not in the quarantine"
show "with mxwarden, after routing.quarantine-after (5 s; $((SECONDS - start)) s in all):" "$(q list)"
shown=$(q show 1 2>&1 || true)
show "mxwarden quarantine show 1 (evidence):" "$(sed -n '/^evidence:/,/^history:/p' <<<"$shown" | head -8)"
[[ $shown == *"reason       dns-failure"* && $shown == *"servers=127.0.0.10@53"* ]] ||
    fail "the quarantined entry lacks its reason or evidence: $shown"
# The pipe returns once the entry is committed; Postfix removes its queue file after that.
mxw_poll 10 mxw_postfix_queue_empty "$work/mxw" || fail "the message is still in Postfix's queue"

# The forwarder is fixed; after routing.dns-retry the daemon asks again (libunbound forgets the server's failures
# within 10 s), and the release goes out.
mxw_stop_pid "$silent_pid" || true
mxw_start_faultdns "$work/dns" 53 "$ns_port" --addr 127.0.0.10 --udp answer --tcp answer
resolves() { "$MXW_BUILD/mxwarden" --daemon.state-dir="$state" --listen.control="inet:127.0.0.1:$control_port" \
    route good.mxw.test --json 2>/dev/null | grep '"dns":"mx"' >/dev/null; }
mxw_poll 30 resolves || fail "the daemon does not resolve good.mxw.test after the forwarder was fixed"
# The same goes for trivial-rewrite's cached mxq answer for the recipient of the release.
mxw_postfix_restart "$work/mxw" 127.0.0.10
released=$(q release 1 2>&1) || fail "release failed: $released"
show "the forwarder fixed: mxwarden quarantine release 1" "$released"
mxw_wait_log 30 "$work/mxw/maillog" 'to=<user@good.mxw.test>, relay=127.0.0.2\[127.0.0.2\]:25.*status=sent' ||
    fail "the released message was not delivered"
[[ $(q list --state released --json) == *'"state":"released"'* ]] || fail "the entry is not marked released"
mxw_finish
