#!/bin/bash
# Issue 12, shared host health and routes on a real PostgreSQL 15: three mxwardend nodes (own state directories and
# ports, one store.url, store.node mta-1..3) and two private Postfix instances, A asking node 1's transport map and
# B node 2's. fleet.mxw.test has two MX: 127.0.0.48 accepts TCP and never greets (smtp_peers.py silent), 127.0.0.49
# is smtp-sink.
#
# 1. Node 1 learns the silent MX (its probe, through `mxwarden route`); then Postfix B's first message to the
#    domain goes straight to the good MX: faster than the greeting timeout, and node 2 never probed the silent host
#    (its log has no probe of it; its route shows the host dead by mta-1's observation). Both messages are timed.
# 2. DNS goes away (nsd stopped); node 3, which never routed the domain, restarts and routes it from the fleet's
#    last-known-good routes.
# 3. PostgreSQL stopped: lookups and mail go on, mxwarden_store_up is 0; what node 1 learns meanwhile reaches
#    node 2 once PostgreSQL is back, and mxwarden_store_up is 1 again.
#
# Fixed addresses 127.0.0.48-50:25 are this test's alone (see zones/mxw.test.zone); everything else picks free
# ports: runs beside other tests.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/postfix.sh
source "$here/lib/postfix.sh"
# shellcheck source=lib/daemon.sh
source "$here/lib/daemon.sh"
# shellcheck source=lib/pg.sh
source "$here/lib/pg.sh"
mxw_begin fleet_health_test

# Postfix's greeting wait, short as in delivery_feedback_test; a message faster than `fast` never waited it.
helo_timeout=8
fast=3
silent=127.0.0.48
good=127.0.0.49
later=127.0.0.50

read -r ns_port smtpd_a smtpd_b smap1 smap2 smap3 m1 m2 m3 < <(mxw_free_port 9)
smap=("" "$smap1" "$smap2" "$smap3")
metrics=("" "$m1" "$m2" "$m3")
mxw_start_pg "$work/pg"
mxw_start_nsd "$work/nsd" "$ns_port"
mxw_start_smtp_peers "$work/peers.log" "$silent:25=silent"
mxw_start_sink "$work/sink" "$good:25"

declare -a node_pid
# start_node N: mxwardend as mta-N, from its configuration file, appending to its log.
start_node() {
    local n=$1
    cat >"$work/node$n.conf" <<EOF
[store]
url = $MXW_PG_URL
node = mta-$n
EOF
    mxw_start_daemon "$work/node$n" "$work/node$n.log" -c "$work/node$n.conf" \
        --listen.policy="unix:$work/node$n/policy.sock" --listen.socketmap="inet:127.0.0.1:${smap[$n]}" \
        --listen.metrics="inet:127.0.0.1:${metrics[$n]}" \
        --dns.forwarders="127.0.0.1@$ns_port" --routing.deny-addresses=0.0.0.0/8 --probe.banner-timeout=2s \
        --probe.connect-timeout=2s --routing.answer-budget=500ms
    node_pid[n]=$MXW_DAEMON_PID
}
on() { # on N ARGS...: the CLI against node N
    local n=$1
    shift
    MXW_DAEMON_STATE_DIR=$work/node$n mxw_cli "$@"
}
metric() { # metric N NAME [LABELS]: a sample of node N's metrics
    curl -fsS "http://127.0.0.1:${metrics[$1]}/metrics" | awk -v want="$2${3:-}" '$1 == want { print $2 }'
}
received() { metric "$1" mxwarden_fleet_observations_total '{direction="received"}'; }
store_up_is() { [[ $(metric "$1" mxwarden_store_up) == "$2" ]]; }
received_over() { (($(received "$1") > $2)); }
# health_of N DOMAIN ADDRESS: the address's health and, space-separated, the nodes of its recent observations
# ("self" for node N's own), as node N's `mxwarden route --json` shows them.
health_of() {
    on "$1" route "$2" --json | "$MXW_PYTHON" -c '
import json, sys
route = json.load(sys.stdin)
for h in route["hosts"]:
    for a in h["addresses"]:
        if a["address"] == sys.argv[1]:
            print(a["health"], *[o["node"] or "self" for o in a.get("recent", [])])' "$3"
}

for n in 1 2 3; do start_node "$n"; done

pfa=$work/pfa
pfb=$work/pfb
for pf in "$pfa" "$pfb"; do
    port=$smtpd_a n=1
    [[ $pf == "$pfa" ]] || port=$smtpd_b n=2
    mxw_postfix_create "$pf" "$port"
    mxw_postfix_conf "$pf" "smtp_helo_timeout = ${helo_timeout}s" "smtp_connect_timeout = 5s" \
        "transport_maps = socketmap:inet:127.0.0.1:${smap[$n]}:transport"
    mxw_postfix_mxw "$pf" -o "smtp_helo_timeout=${helo_timeout}s" -o smtp_connect_timeout=5s -o syslog_name=postfix/mxw
    mxw_postfix_start "$pf" 127.0.0.1
done

echo "--- 1. node 1 finds the silent MX; Postfix B's first message skips it"
t0=$(date +%s.%N)
on 1 route fleet.mxw.test >/dev/null
dead_on_1() { [[ $(health_of 1 fleet.mxw.test $silent) == dead* ]]; }
mxw_poll 10 dead_on_1 || fail "node 1 did not find $silent dead: $(health_of 1 fleet.mxw.test $silent)"
t1=$(date +%s.%N)
# Node 1's two probes (the silent host and the good one) reach node 2 within a second.
mxw_poll 2 received_over 2 1 || fail "node 2 received $(received 2) observations within 2 s of node 1's, want 2"
t2=$(date +%s.%N)
time_a=$(mxw_sink_timed "$pfa" "$work/sink" fleet-a "a@fleet.mxw.test")
time_b=$(mxw_sink_timed "$pfb" "$work/sink" fleet-b "b@fleet.mxw.test")
printf 'node 1 learned %s dead in %.1f s; node 2 had it %.1f s later\n' "$silent" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')"
printf '| message | seconds until delivered (smtp_helo_timeout=%ss) |\n|---|---:|\n' "$helo_timeout"
printf '| Postfix A via node 1, after node 1 probed | %s |\n| Postfix B via node 2, its first to the domain | %s |\n' \
    "$time_a" "$time_b"
for t in "$time_a" "$time_b"; do
    [[ $t != never ]] || fail "a message to fleet.mxw.test never arrived"
    awk -v t="$t" -v f="$fast" 'BEGIN { exit !(t < f) }' || fail "a message took $t s: it met the silent MX"
done
grep -E "event=probe .*address=$silent( |$)" "$work/node2.log" && fail "node 2 probed $silent itself"
on 2 route fleet.mxw.test | sed 's/^/  /'
seen=$(health_of 2 fleet.mxw.test $silent)
[[ $seen =~ ^dead( mta-1)+$ ]] || fail "node 2 has $silent as '$seen', want dead by mta-1's observations only"
grep -q "relay=.*\[$good\]:25.*status=sent" "$pfb/maillog" ||
    fail "Postfix B did not deliver through $good"
if grep -q "\[$silent\]" "$pfb/maillog"; then fail "Postfix B tried $silent"; fi

echo "--- 2. DNS away: node 3 restarts and routes the domain from the fleet's routes"
saved() { [[ $(mxw_psql "SELECT count(*) FROM mxwarden.fleet_routes WHERE destination = 'fleet.mxw.test'::bytea AND hosts <> ''::bytea") == 1 ]]; }
mxw_poll 5 saved || fail "no route for fleet.mxw.test in the fleet's store"
mxw_dns_cleanup
mxw_stop_daemon "${node_pid[3]}"
start_node 3
grep -E 'event=routes-restored count=[1-9][0-9]* from=fleet' "$work/node3.log" || fail "node 3 did not restore the fleet's routes"
# Its health comes from the fleet too (the hour before it started): it has no reason to probe the silent host.
mxw_poll 5 received_over 3 0 || fail "node 3 received no observations from the fleet"
on 3 route fleet.mxw.test | tee "$work/route3.txt" | sed 's/^/  /'
grep -q "^postfix:  OK mxw:\[$good\]:25" "$work/route3.txt" ||
    fail "node 3 does not route fleet.mxw.test to $good during the DNS outage"
grep -q '^evidence: saved ' "$work/route3.txt" || fail "node 3's route is not the saved one"

echo "--- 3. PostgreSQL stopped: routing goes on; what node 1 learns meanwhile reaches node 2 afterwards"
mxw_start_nsd "$work/nsd" "$ns_port"
mxw_stop_pg
mxw_poll 5 store_up_is 1 0 || fail "node 1's mxwarden_store_up is $(metric 1 mxwarden_store_up) with PostgreSQL stopped"
mxw_poll 5 store_up_is 2 0 || fail "node 2's mxwarden_store_up is $(metric 2 mxwarden_store_up) with PostgreSQL stopped"
time_outage=$(mxw_sink_timed "$pfb" "$work/sink" fleet-outage "c@fleet.mxw.test")
echo "Postfix B via node 2 with PostgreSQL stopped: $time_outage s"
[[ $time_outage != never ]] || fail "no delivery while PostgreSQL was stopped"
before=$(received 2)
on 1 route fleet-later.mxw.test >/dev/null
dead_later() { [[ $(health_of 1 fleet-later.mxw.test $later) == dead* ]]; }
mxw_poll 5 dead_later || fail "node 1 did not find $later dead"
grep -q 'event=store-down' "$work/node1.log" || fail "node 1 did not log the store going away"
mxw_restart_pg
t3=$(date +%s.%N)
mxw_poll 15 store_up_is 1 1 || fail "node 1's mxwarden_store_up stayed $(metric 1 mxwarden_store_up) after the restart"
mxw_poll 15 received_over 2 "$before" || fail "node 2 received nothing after PostgreSQL came back"
t4=$(date +%s.%N)
store_up_is 2 1 || fail "node 2's mxwarden_store_up is $(metric 2 mxwarden_store_up) after the restart"
printf 'node 2 had the outage observation %.1f s after PostgreSQL restarted\n' \
    "$(awk -v a="$t3" -v b="$t4" 'BEGIN { print b - a }')"
seen=$(health_of 2 fleet-later.mxw.test $later)
[[ $seen =~ ^dead( mta-1)+$ ]] || fail "node 2 has $later as '$seen', want dead by mta-1's observation"
grep -q 'event=store-up' "$work/node1.log" || fail "node 1 did not log the store coming back"
mxw_finish
