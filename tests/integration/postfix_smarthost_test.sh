#!/bin/bash
# Seed 000 with a real Postfix: the smart host is given by name (relay.mxw.test:PORT) and DNS for it breaks. With
# routing.mode = smarthost, mxwardend hands Postfix the smart host's probed address as [IP]:PORT, so Postfix does no
# DNS lookup at send time, and the last-known-good address keeps mail flowing while DNS fails: first SERVFAIL (the
# upstream server gone), then truncated UDP answers with TCP refused across a restart of the daemon.
#
#   sendmail -C --> Postfix --transport_maps (socketmap)--> mxwardend --> faultdns 127.0.0.1@F --> nsd 127.0.0.1@N
#                      +--> mxw (smtp clone) --> [127.0.0.7]:S smtp-sink (relay.mxw.test)
#
# Every address and port is free-picked or private to this test (127.0.0.7), so it may run beside the others.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/postfix.sh
source "$here/lib/postfix.sh"
# shellcheck source=lib/daemon.sh
source "$here/lib/daemon.sh"

mxw_begin postfix_smarthost_test
pf=$work/pf
sink_dir=$work/sink

daemon_log=$work/mxwardend.log
read -r smtpd_port smap_port policy_port ns_port fault_port sink_port < <(mxw_free_port 6)

mxw_start_nsd "$work/nsd" "$ns_port"
nsd_pid=$MXW_NSD_PID
mxw_start_faultdns "$work/dns" "$fault_port" "$ns_port"
fault_pid=$MXW_FAULTDNS_PID
mxw_start_sink "$sink_dir" "127.0.0.7:$sink_port"

# Loopback stands in for the remote smart host here, so only 0.0.0.0/8 stays denied. relay.mxw.test has a 1 s TTL
# and routing.min-ttl = 1s lets the daemon honour it, so the outage is met within the test.
daemon_args=(--listen.policy="inet:127.0.0.1:$policy_port" --listen.socketmap="inet:127.0.0.1:$smap_port"
    --dns.forwarders="127.0.0.1@$fault_port" --dns.timeout=2s --routing.mode=smarthost
    --routing.smarthost="relay.mxw.test:$sink_port" --routing.exclude=localhost --routing.min-ttl=1s
    --routing.deny-addresses=0.0.0.0/8 --probe.banner-timeout=3s --probe.connect-timeout=2s
    --routing.answer-budget=2s)
mxw_start_daemon "$work/state" "$daemon_log" "${daemon_args[@]}"

mxw_postfix_create "$pf" "$smtpd_port"
map="socketmap:inet:127.0.0.1:$smap_port:transport"
# The host's resolver must never matter: Postfix gets literal addresses only.
mxw_postfix_conf "$pf" "transport_maps = $map" "smtp_connect_timeout = 5s"
mxw_postfix_mxw "$pf" -o smtp_helo_timeout=10s -o smtp_connect_timeout=5s -o syslog_name=postfix/mxw
mxw_postfix_start "$pf" 127.0.0.1

want="mxw:[127.0.0.7]:$sink_port"
answer=$(postmap -c "$pf/etc" -q "probe@example.org" "$map" || true)
echo "postmap -q probe@example.org -> $answer"
[[ $answer == "$want" ]] || fail "smart host answer: want $want, got '$answer'"
[[ -z $(postmap -c "$pf/etc" -q "root@localhost" "$map" || true) ]] || fail "an excluded local domain must be NOTFOUND"
[[ -z $(postmap -c "$pf/etc" -q '*' "$map" || true) ]] || fail "the wildcard key must be NOTFOUND"

# send TAG RCPT, then delivered TAG: true once smtp-sink has the message (30 s at most).
send() { printf 'Subject: %s\n\nseed 000\n' "$1" | sendmail -C "$pf/etc" -f sender@mxw.test "$2"; }
delivered() { mxw_sink_file "$sink_dir" "$1" 30 >/dev/null; }
# Recipient domains differ per message: trivial-rewrite caches each recipient's answer until a reload.
send smarthost-1 "a@one.example.org"
delivered smarthost-1 || fail "message 1 (DNS working) was not delivered through the smart host"

# Outage 1: the DNS server behind the forwarder is gone, every query gets SERVFAIL.
mxw_stop_pid "$nsd_pid" || true
# nsd's server process may outlive the main one for a moment: the outage starts when nsd stops answering.
nsd_silent() { ! _mxw_nsd_answers "$ns_port"; }
mxw_poll 5 nsd_silent || { echo "nsd still answers after it was stopped" >&2; exit 1; }
# Past the 1 s TTL a lookup asks DNS again: the daemon meets the outage before message 2 is routed, not after.
sleep 1.5
answer=$(postmap -c "$pf/etc" -q "probe@two.example.org" "$map" || true)
mxw_wait_log 10 "$daemon_log" 'event=route-dns-failure.*using=last-known-good' || true  # judged below
[[ $answer == "$want" ]] || fail "during the outage: want the last-known-good $want, got '$answer'"
send smarthost-2 "b@two.example.org"
delivered smarthost-2 || fail "message 2 (SERVFAIL) was not delivered on the last-known-good address"
# Seed 002: the failure is logged at once, naming the server, the transport and the rcode.
grep -q "event=route-dns-failure domain=\\[relay.mxw.test\\] .*rcode 2; servers=127.0.0.1@$fault_port transport=udp-then-tcp.*using=last-known-good" "$daemon_log" ||
    fail "the daemon did not log the smart host's DNS failure with server, transport and rcode"

# Outage 2 (seed 000 itself): UDP answers truncated, TCP to the DNS server refused; and the daemon restarts in it.
mxw_stop_pid "$fault_pid" || true
mxw_start_nsd "$work/nsd2" "$ns_port"
mxw_start_faultdns "$work/dns" "$fault_port" "$ns_port" --udp tc --tcp refuse
mxw_stop_daemon || fail "mxwardend did not stop cleanly"
mxw_start_daemon "$work/state" "$daemon_log" "${daemon_args[@]}"
grep -q 'event=routes-restored count=1' "$daemon_log" || fail "the restarted daemon restored no route"
answer=$(postmap -c "$pf/etc" -q "probe@three.example.org" "$map" || true)
echo "after restart, DNS broken: postmap -q probe@three.example.org -> $answer"
[[ $answer == "$want" ]] || fail "after a restart in the outage: want $want, got '$answer'"
send smarthost-3 "c@three.example.org"
delivered smarthost-3 || fail "message 3 (restart during the outage) was not delivered"
echo "mxwarden route three.example.org (DNS broken):"
mxw_cli route three.example.org | sed 's/^/  /'
mxw_cli route three.example.org --json | grep -q '"dns_failing":true' || fail "route does not show the DNS failure"
grep -q 'tcp .*refused\|udp q=relay.mxw.test A -> tc' "$work/dns/faultdns-$fault_port.log" ||
    fail "the daemon never met the truncated answer"

n=$(grep -c 'relay=127.0.0.7\[127.0.0.7\]:'"$sink_port"'.*status=sent' "$pf/maillog" || true)
((n == 3)) || fail "want 3 deliveries to [127.0.0.7]:$sink_port in the maillog, got $n"
mxw_finish
