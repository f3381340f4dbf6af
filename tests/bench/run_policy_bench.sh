#!/usr/bin/env bash
# Policy-service benchmark: mxwardend against a trivial responder that answers
# DUNNO without looking at the request (the ceiling for this machine).
#
# usage: run_policy_bench.sh BUILD_DIR      (BUILD_DIR/mxwardend is the daemon)
#
# For each connection count, policy_load runs for 5 s against the trivial
# responder and then against mxwardend, whose cache already holds every sender
# domain used. Then a fresh mxwardend is warmed with 100000 distinct domains and
# its peak RSS is reported. DNS data comes from an nsd on loopback serving the
# wildcard zone bench.test; client_name in the requests is a confirmed name, so
# the daemon needs no PTR data.
#
# MXW_BENCH_DAEMON_CMD replaces the mxwardend command line, e.g. to try this
# script with a stand-in. bash runs it with exec (so its PID is the daemon's)
# and it may use $MXW_BENCH_PORT, $MXW_BENCH_STATE_DIR, $MXW_BENCH_DNS_PORT and
# $MXW_BENCH_TOOLS (the directory holding trivial_responder and policy_load).
# It must print "event=ready" on stderr once it accepts connections.
set -euo pipefail

SECONDS_PER_RUN=5
CONNECTION_COUNTS=(1 8 64 256)
CACHED_DOMAINS=1000
MEMORY_DOMAINS=100000
WARMUP_CONNECTIONS=64

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_begin run_policy_bench "$@"

# start_daemon NAME: starts mxwardend (or MXW_BENCH_DAEMON_CMD) with a fresh state directory; sets DAEMON_PID and
# DAEMON_PORT.
start_daemon() {
    local state=$work/$1
    mkdir -p "$state"
    read -r DAEMON_PORT < <(mxw_free_port 1)
    MXW_BENCH_PORT=$DAEMON_PORT MXW_BENCH_STATE_DIR=$state MXW_BENCH_DNS_PORT=$NSD_PORT \
        bench_start_daemon "$work/$1.log" --daemon.state-dir="$state" \
        --listen.policy="inet:127.0.0.1:$DAEMON_PORT" \
        --listen.control="unix:$state/control.sock" --listen.socketmap="unix:$state/socketmap.sock" \
        --dns.forwarders="127.0.0.1@$NSD_PORT" --dns.transparent-zones="test."
}

# warm PORT DOMAINS: every domain asked once; any failed request is fatal, as
# the measurements that follow rely on a complete cache.
warm() {
    local out
    out=$(load policy_load "$1" --connections "$WARMUP_CONNECTIONS" --warmup-only --domains "$2")
    [[ $(field "$out" errors) == 0 ]] || die "warm-up failed: $out"
    [[ $(field "$out" requests) == "$2" ]] || die "warm-up incomplete: $out"
}

read -r NSD_PORT TRIVIAL_PORT < <(mxw_free_port 2)
cat >"$work/bench.test.zone" <<'EOF'
$ORIGIN bench.test.
; TTLs outlast the whole benchmark so that the cache stays warm throughout.
$TTL 86400
@    SOA ns.bench.test. hostmaster.bench.test. 1 3600 600 86400 86400
@    NS  ns.bench.test.
ns   A   127.0.0.1
mx   A   127.0.0.2
*    MX  10 mx.bench.test.
EOF
bench_start_nsd "$NSD_PORT" "$work/bench.test.zone"
bench_start_tool "$work/trivial.log" trivial_responder "$TRIVIAL_PORT"

start_daemon throughput
warm "$DAEMON_PORT" "$CACHED_DOMAINS"

for c in "${CONNECTION_COUNTS[@]}"; do
    bench_compare policy_load "$c" --domains "$CACHED_DOMAINS" -- errors
done
mxw_stop_pid "$DAEMON_PID" || true

start_daemon memory
rss_start=$(peak_rss_mib "$DAEMON_PID")
warm "$DAEMON_PORT" "$MEMORY_DOMAINS"
rss_warm=$(peak_rss_mib "$DAEMON_PID")
mxw_stop_pid "$DAEMON_PID" || true

echo
echo "| connections | trivial rps | mxwardend rps | ratio | p50 | p99 | p999 |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
echo
echo "Latencies (p50/p99/p999) are mxwardend's, in microseconds; ${SECONDS_PER_RUN}s per run, $CACHED_DOMAINS cached sender domains."
echo "mxwardend peak RSS (VmHWM): $rss_warm MiB after warming $MEMORY_DOMAINS sender domains ($rss_start MiB at startup)."
for note in "${NOTES[@]}"; do
    echo "WARNING: $note"
done
