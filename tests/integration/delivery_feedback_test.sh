#!/bin/bash
# Health learned from real deliveries, with a real Postfix: the first MX of two-mx.mxw.test greets and then never
# answers EHLO (smtp_peers.py hang-ehlo), the second is healthy. mxwarden's greeting probe finds the first host
# healthy, so only Postfix's own log can tell that mail to it fails: mxwardend follows the instance's maillog_file
# (feedback.source = file:PATH) and, after the first failed delivery (feedback.failures = 1), skips the host. Six
# messages each, one at a time, three ways: stock Postfix, Postfix + mxwarden with transport_maps (routing.steer =
# transport), and Postfix + mxwarden as smtp_dns_reply_filter (routing.steer = dns-filter). Stock pays
# smtp_helo_timeout for every message; mxwarden for one message at most, the one that meets the hanging host first
# (which one depends on which probe greets first), and never after it.
#
# Judged also by what the daemon shows: mxwarden_delivery_outcomes_total counts the one failure and the six
# deliveries, and `mxwarden route --json` has mx1 dead, its probe ok and its recent outcomes the EHLO timeout (in
# dns-filter mode also its MX record dropped).
#
# Fixed addresses 127.0.0.10:53 (the resolver of stock Postfix and of dns-filter mode), 127.0.0.2:25 and
# 127.0.0.3:25: runs alone.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/postfix.sh
source "$here/lib/postfix.sh"
# shellcheck source=lib/daemon.sh
source "$here/lib/daemon.sh"
mxw_begin delivery_feedback_test

# Short so that the stock rows finish quickly; Postfix's default is 300 s.
helo_timeout=8
# A message faster than this went straight to mx2.
fast=3

pf=$work/pf
sink_dir=$work/sink
read -r smtpd_port smap_port policy_port ns_port metrics_port < <(mxw_free_port 5)

mxw_start_nsd "$work/nsd" "$ns_port" 127.0.0.10@53
mxw_start_smtp_peers "$work/peers.log" 127.0.0.2:25=hang-ehlo
mxw_start_sink "$sink_dir" 127.0.0.3:25

mxw_postfix_create "$pf" "$smtpd_port"
mxw_postfix_conf "$pf" "smtp_helo_timeout = ${helo_timeout}s" "smtp_connect_timeout = 5s"
mxw_postfix_mxw "$pf" -o "smtp_helo_timeout=${helo_timeout}s" -o smtp_connect_timeout=5s -o syslog_name=postfix/mxw
mxw_postfix_start "$pf" 127.0.0.10

# start_mxwarden STEER: a fresh daemon (nothing learned yet) following the instance's log.
start_mxwarden() {
    [[ -z ${MXW_DAEMON_PID:-} ]] || mxw_stop_daemon "$MXW_DAEMON_PID"
    mxw_start_daemon "$work/state-$1" "$work/mxwardend-$1.log" --listen.policy="inet:127.0.0.1:$policy_port" \
        --listen.socketmap="inet:127.0.0.1:$smap_port" --listen.metrics="inet:127.0.0.1:$metrics_port" \
        --dns.forwarders="127.0.0.1@$ns_port" --routing.deny-addresses=0.0.0.0/8 --probe.banner-timeout=3s \
        --probe.connect-timeout=2s --routing.answer-budget=500ms --routing.steer="$1" \
        --feedback.source="file:$pf/maillog" --feedback.failures=1
    grep -q "event=feedback-follow source=file:$pf/maillog" "$work/mxwardend-$1.log" ||
        fail "$1: the daemon did not log that it follows $pf/maillog"
}

# delivery_count OUTCOME: mxwarden_delivery_outcomes_total{outcome="OUTCOME"} of the running daemon.
delivery_count() {
    curl -fsS "http://127.0.0.1:$metrics_port/metrics" |
        awk -v want="mxwarden_delivery_outcomes_total{outcome=\"$1\"}" '$1 == want { print $2 }'
}
counted() { [[ $(delivery_count "$1") == "$2" ]]; }

# run_six ARRAY TAG: six messages, one at a time, their times appended to ARRAY. With a daemon running, the next
# message waits (untimed) until the daemon has read this one's status=sent line, and with it every line Postfix
# logged before, such as mx1's failure: the follower reads the log every 250 ms, and the next message's routing
# lookup comes sooner than that after the delivery, so without the wait it may meet mx1 again.
run_six() {
    local -n times=$1
    local i
    for i in 1 2 3 4 5 6; do
        times+=("$(mxw_sink_timed "$pf" "$sink_dir" "$2-$i" "$2$i@two-mx.mxw.test")")
        [[ -z ${MXW_DAEMON_PID:-} ]] || mxw_poll 5 counted sent "$i" ||
            fail "$2: the daemon did not read delivery $i from the log within 5 s (sent: $(delivery_count sent))"
    done
}

# judge_mxwarden STEER: after its six messages, the daemon read the one failure and the six deliveries from the
# log, and its route shows mx1 dead by that failure although mx1's probe greeted.
judge_mxwarden() {
    counted sent 6 || fail "$1: mxwarden_delivery_outcomes_total{outcome=\"sent\"} is $(delivery_count sent), want 6"
    counted timeout 1 ||
        fail "$1: mxwarden_delivery_outcomes_total{outcome=\"timeout\"} is $(delivery_count timeout), want 1 (the EHLO hang)"
    echo "mxwarden route two-mx.mxw.test ($1):"
    mxw_cli route two-mx.mxw.test | sed 's/^/  /'
    mxw_cli route two-mx.mxw.test --json | "$MXW_PYTHON" -c '
import json, sys
steer = sys.argv[1]
route = json.load(sys.stdin)
hosts = {h["name"]: h for h in route["hosts"]}
addrs = {a["address"]: a for h in route["hosts"] for a in h["addresses"]}
mx1, mx2 = addrs["127.0.0.2"], addrs["127.0.0.3"]
failed = [o for o in mx1.get("recent", []) if o["source"] == "delivery" and not o["ok"]]
checks = {
    "steer": route.get("steer") == steer,
    "mx1 dead, its probe ok": mx1["health"] == "dead" and mx1.get("probe") == "ok",
    "mx1 delivery timeout at ehlo": any(o["outcome"] == "timeout" and o["stage"] == "ehlo" for o in failed),
    "mx2 healthy, delivered to": mx2["health"] == "healthy"
    and any(o["source"] == "delivery" and o["ok"] for o in mx2.get("recent", [])),
}
if steer == "dns-filter":
    checks["dnsfilter ignores mx1, keeps mx2"] = (hosts["mx1.mxw.test"].get("dnsfilter") == "ignore"
                                                  and hosts["mx2.mxw.test"].get("dnsfilter") == "keep")
wrong = [k for k, ok in checks.items() if not ok]
if wrong:
    sys.exit("not so: " + "; ".join(wrong))' "$1" ||
        fail "$1: mxwarden route two-mx.mxw.test --json is not as expected"
}

declare -a stock transport filter

# Stock Postfix: its own MX lookup through nsd on 127.0.0.10:53.
run_six stock stock

# transport_maps: the mxw clone gets [127.0.0.2]:25 first (once its probe greeted) until the log shows it failing.
start_mxwarden transport
mxw_postfix_conf "$pf" "transport_maps = socketmap:inet:127.0.0.1:$smap_port:transport"
mxw_postfix_restart "$pf" 127.0.0.10
run_six transport transport
judge_mxwarden transport
grep -Eq 'event=delivery address=127\.0\.0\.2 .*outcome=timeout stage=ehlo health=dead' "$work/mxwardend-transport.log" ||
    fail "mxwardend did not log mx1's failed delivery"

# dns-filter: Postfix routes by itself; mxwarden removes mx1's records once the log shows it failing.
start_mxwarden dns-filter
mxw_postfix_conf "$pf" "transport_maps =" "smtp_dns_reply_filter = socketmap:inet:127.0.0.1:$smap_port:dnsfilter"
mxw_postfix_restart "$pf" 127.0.0.10
run_six filter filter
judge_mxwarden dns-filter
grep -q 'ignoring DNS RR' "$pf/maillog" || fail "Postfix never logged a record mxwarden removed"

printf '\nA first MX that greets and then hangs after EHLO, second healthy (seconds until delivered; smtp_helo_timeout=%ss, default 300s)\n' "$helo_timeout"
printf '| message | stock Postfix | mxwarden, transport_maps | mxwarden, dns-filter |\n|---:|---:|---:|---:|\n'
for i in 0 1 2 3 4 5; do printf '| %d | %s | %s | %s |\n' $((i + 1)) "${stock[$i]}" "${transport[$i]}" "${filter[$i]}"; done

# Every message arrived; stock waited the EHLO timeout every time; mxwarden in one message at most.
for i in 0 1 2 3 4 5; do
    awk -v t="${stock[$i]}" -v h="$helo_timeout" 'BEGIN { exit !(t != "never" && t >= h - 1) }' ||
        fail "stock message $((i + 1)) took ${stock[$i]} s; expected the EHLO timeout first"
done
# judge_row ARRAY: every message arrived, and at most one (the one that met mx1 first) was not fast.
judge_row() {
    local -n row=$1
    local i slow=0
    for i in 0 1 2 3 4 5; do
        [[ ${row[$i]} != never ]] || { fail "$1 message $((i + 1)) never arrived"; continue; }
        awk -v t="${row[$i]}" -v f="$fast" 'BEGIN { exit !(t >= f) }' || continue
        slow=$((slow + 1))
        ((slow == 1)) || fail "$1 message $((i + 1)) took ${row[$i]} s: mxwarden should have skipped mx1 by then"
    done
}
judge_row transport
judge_row filter
mxw_finish
