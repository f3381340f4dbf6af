#!/bin/bash
# Seed 004 with a real Postfix: the first MX of two-mx.mxw.test accepts TCP and never greets. Stock Postfix waits
# smtp_helo_timeout on it for every message before trying the second MX; with mxwarden's transport_maps answer every
# message goes straight to mx2: the first lookup waits (within routing.answer-budget) until mx2's probe has greeted.
#
#   sendmail -C --> Postfix --transport_maps (socketmap)--> mxwardend --> nsd 127.0.0.1@P
#                      |--> mxw (smtp clone) --> [127.0.0.3]:25 smtp-sink (mx2)   127.0.0.2:25 silent (mx1)
#                      +--> stock run: its own MX lookup via nsd on 127.0.0.10:53
#
# Fixed addresses 127.0.0.10:53, 127.0.0.2:25 and 127.0.0.3:25: never run two of these at once.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
mxw_begin seed004

# Kept short so the stock comparison finishes quickly; the default is 300 s.
stock_helo_timeout=20
mxw_helo_timeout=10

pf=$work/pf
sink_dir=$work/sink

daemon_log=$work/mxwardend.log
read -r smtpd_port smap_port policy_port ns_port < <(mxw_free_port 4)

mxw_start_nsd "$work/nsd" "$ns_port" 127.0.0.10@53
mxw_start_smtp_peers "$work/peers.log" 127.0.0.2:25=silent
mxw_start_sink "$sink_dir" 127.0.0.3:25

# Loopback stands in for remote MX hosts here, so only 0.0.0.0/8 stays denied.
mxw_start_daemon "$work/state" "$daemon_log" --listen.policy="inet:127.0.0.1:$policy_port" \
    --listen.socketmap="inet:127.0.0.1:$smap_port" --dns.forwarders="127.0.0.1@$ns_port" \
    --routing.deny-addresses=0.0.0.0/8 --probe.banner-timeout=3s --probe.connect-timeout=2s \
    --routing.answer-budget=500ms

mxw_postfix_create "$pf" "$smtpd_port"
mxw_postfix_conf "$pf" "relay_domains = mxw.test" "smtp_helo_timeout = ${stock_helo_timeout}s" \
    "smtp_connect_timeout = 5s"
mxw_postfix_mxw "$pf" -o "smtp_helo_timeout=${mxw_helo_timeout}s" -o smtp_connect_timeout=5s -o syslog_name=postfix/mxw \
    -o "smtp_tls_policy_maps=socketmap:inet:127.0.0.1:$smap_port:tls"
mxw_postfix_start "$pf" 127.0.0.10

# The map as Postfix itself reads it: postmap speaks the socketmap protocol with Postfix's own client code.
map="socketmap:inet:127.0.0.1:$smap_port:transport"
# aonly.mxw.test has no MX: its own address is the implicit MX (RFC 5321 §5.1).
answer=$(postmap -c "$pf/etc" -q "probe@aonly.mxw.test" "$map" || true)
echo "postmap -q probe@aonly.mxw.test -> $answer"
[[ $answer == "mxw:[127.0.0.5]:25" ]] || fail "implicit MX: want mxw:[127.0.0.5]:25, got '$answer'"
[[ -z $(postmap -c "$pf/etc" -q '*' "$map" || true) ]] || fail "the wildcard key must be NOTFOUND"
answer=$(postmap -c "$pf/etc" -q "x@nullmx.mxw.test" "$map" || true)
[[ $answer == error:5.1.10* ]] || fail "null MX: want error:5.1.10, got '$answer'"


# Message 1 meets a destination mxwarden has never seen: the lookup waits up to routing.answer-budget for the
# probes, and mx2 greets within it, so the answer puts mx2 first and even message 1 skips the silent mx1.
mxw_postfix_conf "$pf" "transport_maps = $map"
mxw_postfix_restart "$pf" 127.0.0.10
declare -a with
for i in 1 2 3 4 5 6; do with+=("$(mxw_sink_timed "$pf" "$sink_dir" "mxw-$i" "user$i@two-mx.mxw.test")"); done
# mx1's probe ends at probe.banner-timeout (3 s), after the messages above may already have gone to mx2.
mx1_dead() { mxw_cli route two-mx.mxw.test --json | grep '"health":"dead"' >/dev/null; }
mxw_poll 10 mx1_dead || true  # judged below, with the route shown
echo "mxwarden route two-mx.mxw.test:"
mxw_cli route two-mx.mxw.test | sed 's/^/  /'
mxw_cli route two-mx.mxw.test --json | grep -q '"health":"dead"' || fail "route does not show mx1 as dead"
# The TLS policy for a next hop mxwarden emitted, keyed exactly as the mxw clone looks it up.
tls=$(postmap -c "$pf/etc" -q "[127.0.0.3]:25" "socketmap:inet:127.0.0.1:$smap_port:tls" || true)
echo "postmap -q [127.0.0.3]:25 ...:tls -> $tls"
[[ $tls == may ]] || fail "tls map: want 'may' for [127.0.0.3]:25, got '$tls'"

# Stock Postfix: no transport_maps, its own MX lookup through nsd on 127.0.0.10:53.
mxw_postfix_conf "$pf" "transport_maps ="
mxw_postfix_restart "$pf" 127.0.0.10
declare -a without
for i in 1 2; do without+=("$(mxw_sink_timed "$pf" "$sink_dir" "stock-$i" "stock$i@two-mx.mxw.test")"); done

printf '\nseed 004: first MX silent, second healthy (seconds until delivered)\n'
printf '| message | stock Postfix (smtp_helo_timeout=%ss; default 300s) | Postfix + mxwarden |\n|---|---|---|\n' \
    "$stock_helo_timeout"
for i in 0 1 2 3 4 5; do printf '| %d | %s | %s |\n' $((i + 1)) "${without[$i]:--}" "${with[$i]}"; done
for i in 0 1 2 3 4 5; do
    [[ ${with[$i]} != never ]] || { fail "message $((i + 1)) via mxwarden never arrived"; continue; }
    limit=5
    awk -v t="${with[$i]}" -v l="$limit" 'BEGIN { exit !(t < l) }' ||
        fail "message $((i + 1)) via mxwarden took ${with[$i]} s (limit $limit s)"
done
for i in 0 1; do
    awk -v t="${without[$i]}" -v h="$stock_helo_timeout" 'BEGIN { exit !(t != "never" && t >= h - 1) }' ||
        fail "stock message $((i + 1)) took ${without[$i]} s; expected the greeting timeout first"
done
grep -q 'relay=127.0.0.3\[127.0.0.3\]:25.*status=sent' "$pf/maillog" || fail "no delivery via mxw to 127.0.0.3"
grep -q 'event=probe domain=two-mx.mxw.test address=127.0.0.2 result=banner-timeout' "$daemon_log" ||
    fail "the daemon did not log mx1's banner timeout"
mxw_finish
