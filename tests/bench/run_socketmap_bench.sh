#!/usr/bin/env bash
# Socketmap benchmark: mxwardend's transport lookups from a warm cache against
# a trivial epoll responder that answers one fixed OK value (the ceiling for
# this machine).
#
# usage: run_socketmap_bench.sh BUILD_DIR      (BUILD_DIR/mxwardend is the daemon)
#
# For each connection count, socketmap_load runs for 5 s against the trivial
# responder and then against mxwardend, whose routes for every recipient
# domain used are already resolved and probed. DNS data comes from an nsd on
# loopback serving the zone bench.test: d0..d999 each have one MX host, and
# the 50 MX hosts have addresses 127.0.0.200..249, on which nothing listens
# (checked before the run). Their probes are refused at once, so the hosts
# are dead and, being all there is, still answered ("dead ones only when
# nothing else is left"): mxw:[127.0.0.2NN]:25, the same length as the
# trivial responder's answer. No probe or other traffic leaves 127.0.0.0/8.
# The measurements start once mxwardend has stopped writing (its route store
# saves every new route with an fsync, off the loop but on the same two cores).
# The peak RSS reported is mxwardend's after the whole run.
#
# A second table measures the dnsfilter map (smtp_dns_reply_filter, routing.steer
# = dns-filter) on the same warm cache: keys are the MX and A records Postfix
# would send for the same domains (socketmap_load --keys dnsfilter), answered
# NOTFOUND (keep: each domain's only MX is the last usable one), against a
# second trivial responder answering "OK IGNORE".
#
# MXW_BENCH_DAEMON_CMD replaces the mxwardend command line, e.g. to try this
# script with a stand-in. bash runs it with exec (so its PID is the daemon's)
# and it may use $MXW_BENCH_PORT (socketmap), $MXW_BENCH_POLICY_PORT,
# $MXW_BENCH_STATE_DIR, $MXW_BENCH_DNS_PORT and $MXW_BENCH_TOOLS (the
# directory holding trivial_socketmap and socketmap_load). It must print
# "event=ready" on stderr once it accepts connections.
set -euo pipefail

SECONDS_PER_RUN=5
CONNECTION_COUNTS=(1 8 64 256)
DOMAINS=1000
MX_HOSTS=50
MX_FIRST_OCTET=200 # MX host i has address 127.0.0.(MX_FIRST_OCTET + i)
WARMUP_CONNECTIONS=64
WARMUP_TIMEOUT=60

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_begin run_socketmap_bench "$@"

# Starts mxwardend (or MXW_BENCH_DAEMON_CMD) with a fresh state directory;
# sets DAEMON_PID.
#  - routing.deny-addresses keeps only 0.0.0.0/8: loopback stands in for
#    remote MX hosts here, as in the integration tests. The local-address
#    rule still denies 127.0.0.1, which the zone never uses for an MX.
#  - probe.dead-backoff and max-backoff of 1 h: the refused MX hosts are not
#    probed again during the run, so the health table, and with it every
#    answer, stays as it was after the warm-up.
start_daemon() {
    local state=$work/daemon
    DAEMON_LOG=$work/daemon.log
    mkdir -p "$state"
    MXW_BENCH_PORT=$DAEMON_PORT MXW_BENCH_POLICY_PORT=$POLICY_PORT MXW_BENCH_STATE_DIR=$state \
        MXW_BENCH_DNS_PORT=$NSD_PORT bench_start_daemon "$DAEMON_LOG" --daemon.state-dir="$state" \
        --listen.socketmap="inet:127.0.0.1:$DAEMON_PORT" --listen.policy="inet:127.0.0.1:$POLICY_PORT" \
        --listen.control="unix:$state/control.sock" \
        --dns.forwarders="127.0.0.1@$NSD_PORT" --dns.transparent-zones="test." \
        --routing.deny-addresses=0.0.0.0/8 --probe.connect-timeout=2s \
        --probe.dead-backoff=1h --probe.max-backoff=1h
}

bench_check_mx_addresses_idle
read -r NSD_PORT TRIVIAL_PORT DAEMON_PORT POLICY_PORT < <(mxw_free_port 4)
bench_write_mx_zone >"$work/bench.test.zone"
bench_start_nsd "$NSD_PORT" "$work/bench.test.zone"
bench_start_tool "$work/trivial.log" trivial_socketmap "$TRIVIAL_PORT" "mxw:[127.0.0.$MX_FIRST_OCTET]:25"
read -r TRIVIAL_FILTER_PORT < <(mxw_free_port 1)
bench_start_tool "$work/trivial-filter.log" trivial_socketmap "$TRIVIAL_FILTER_PORT" IGNORE

start_daemon
rss_start=$(peak_rss_mib "$DAEMON_PID")
bench_socketmap_warm "$DAEMON_PORT" "$DAEMON_LOG" "$DAEMON_PID"

for c in "${CONNECTION_COUNTS[@]}"; do
    bench_compare socketmap_load "$c" --domains "$DOMAINS" -- errors mismatched
done
TRANSPORT_ROWS=("${ROWS[@]}")
ROWS=()
transport_port=$TRIVIAL_PORT
TRIVIAL_PORT=$TRIVIAL_FILTER_PORT
for c in "${CONNECTION_COUNTS[@]}"; do
    # mismatched is not checked: the trivial responder's OK IGNORE is not the daemon's NOTFOUND.
    bench_compare socketmap_load "$c" --domains "$DOMAINS" --map dnsfilter --keys dnsfilter --expect NOTFOUND -- errors
done
TRIVIAL_PORT=$transport_port
rss_end=$(peak_rss_mib "$DAEMON_PID")
# A clean SIGTERM exit is 0; a crash on the way out is worth knowing about.
stop_status=0
mxw_stop_pid "$DAEMON_PID" || stop_status=$?
((stop_status == 0)) || NOTES+=("mxwardend exited with status $stop_status on SIGTERM")

table() {
    echo
    echo "$1"
    echo "| connections | trivial lookups/s | mxwardend lookups/s | ratio | p50 µs | p99 µs | p99.9 µs |"
    echo "|---:|---:|---:|---:|---:|---:|---:|"
    shift
    printf '%s\n' "$@"
}
table "transport map" "${TRANSPORT_ROWS[@]}"
table "dnsfilter map" "${ROWS[@]}"
echo
echo "Latencies are mxwardend's; ${SECONDS_PER_RUN}s per run; keys user<N>@d<K>.bench.test over $DOMAINS warm domains, every 10th key \"*\"."
echo "dnsfilter keys: the MX record of d<K>.bench.test and the A record of its MX host, by turns."
echo "mxwardend peak RSS (VmHWM): $rss_end MiB after the run ($rss_start MiB at startup)."
for note in "${NOTES[@]}"; do
    echo "WARNING: $note"
done
