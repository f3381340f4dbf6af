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

die() {
    echo "run_policy_bench: $*" >&2
    exit 1
}

[[ $# -eq 1 ]] || die "usage: run_policy_bench.sh BUILD_DIR"
BUILD_DIR=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ -z ${MXW_BENCH_DAEMON_CMD:-} && ! -x $BUILD_DIR/mxwardend ]]; then
    die "$BUILD_DIR/mxwardend not found"
fi

TMP=$(mktemp -d /tmp/mxw-bench.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A loopback port that is free for both TCP and UDP (nsd needs both). Another
# process could take it before we bind it; on loopback of a test box it won't.
free_port() {
    /usr/bin/python3 - <<'EOF'
import socket
while True:
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    port = tcp.getsockname()[1]
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        udp.bind(("127.0.0.1", port))
    except OSError:
        continue
    print(port)
    break
EOF
}

# wait_ready PID LOG: until LOG shows event=ready; fails if PID dies first.
wait_ready() {
    local pid=$1 log=$2 i
    for ((i = 0; i < 200; i++)); do
        grep -q 'event=ready' "$log" && return 0
        kill -0 "$pid" 2>/dev/null || { tail -n 20 "$log" >&2; die "process $pid exited before event=ready"; }
        sleep 0.05
    done
    tail -n 20 "$log" >&2
    die "process $pid not ready after 10 s"
}

# stop PID: SIGTERM, then SIGKILL if it is still there after 5 s. The PID is
# dropped from PIDS so that cleanup never signals a process that reused it.
stop() {
    local pid=$1 i
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    for i in "${!PIDS[@]}"; do
        [[ ${PIDS[i]} != "$pid" ]] || unset 'PIDS[i]'
    done
}

start_nsd() {
    local dir=$TMP/nsd i
    mkdir -p "$dir"
    NSD_PORT=$(free_port)
    cat >"$dir/bench.test.zone" <<'EOF'
$ORIGIN bench.test.
; TTLs outlast the whole benchmark so that the cache stays warm throughout.
$TTL 86400
@    SOA ns.bench.test. hostmaster.bench.test. 1 3600 600 86400 86400
@    NS  ns.bench.test.
ns   A   127.0.0.1
mx   A   127.0.0.2
*    MX  10 mx.bench.test.
EOF
    cat >"$dir/nsd.conf" <<EOF
server:
  ip-address: 127.0.0.1@$NSD_PORT
  username: ""
  chroot: ""
  database: ""
  zonesdir: "$dir"
  pidfile: "$dir/nsd.pid"
  xfrdfile: "$dir/xfrd.state"
  zonelistfile: "$dir/zone.list"
  logfile: "$dir/nsd.log"
  reuseport: no
  server-count: 1
remote-control:
  control-enable: no
zone:
  name: "bench.test"
  zonefile: "bench.test.zone"
EOF
    nsd -d -c "$dir/nsd.conf" 2>>"$dir/nsd.log" &
    PIDS+=($!)
    for ((i = 0; i < 100; i++)); do
        if [[ $(dig @127.0.0.1 -p "$NSD_PORT" x.bench.test MX +short +time=1 +tries=1 2>/dev/null) == "10 mx.bench.test." ]]; then
            return 0
        fi
        sleep 0.1
    done
    tail -n 20 "$dir/nsd.log" >&2
    die "nsd did not answer on port $NSD_PORT"
}

# start_daemon NAME: starts mxwardend (or MXW_BENCH_DAEMON_CMD) with a fresh
# state directory; sets DAEMON_PID and DAEMON_PORT.
start_daemon() {
    local state=$TMP/$1 log=$TMP/$1.log
    mkdir -p "$state"
    DAEMON_PORT=$(free_port)
    if [[ -n ${MXW_BENCH_DAEMON_CMD:-} ]]; then
        MXW_BENCH_PORT=$DAEMON_PORT MXW_BENCH_STATE_DIR=$state MXW_BENCH_DNS_PORT=$NSD_PORT \
            MXW_BENCH_TOOLS=$TOOLS bash -c "exec $MXW_BENCH_DAEMON_CMD" 2>>"$log" &
    else
        "$BUILD_DIR/mxwardend" --daemon.state-dir="$state" \
            --listen.policy="inet:127.0.0.1:$DAEMON_PORT" \
            --listen.control="unix:$state/control.sock" --listen.socketmap="unix:$state/socketmap.sock" \
            --dns.forwarders="127.0.0.1@$NSD_PORT" --dns.transparent-zones="test." 2>>"$log" &
    fi
    DAEMON_PID=$!
    PIDS+=("$DAEMON_PID")
    wait_ready "$DAEMON_PID" "$log"
}

# load PORT ARGS...: one policy_load run; prints its key=value line.
load() {
    local port=$1
    shift
    "$TOOLS/policy_load" --port "$port" "$@" || die "policy_load --port $port $* failed"
}

# field LINE KEY: the value of KEY in a key=value line.
field() {
    local kv
    for kv in $1; do
        [[ $kv == "$2="* ]] && { echo "${kv#*=}"; return 0; }
    done
    die "no $2= in: $1"
}

# warm PORT DOMAINS: every domain asked once; any failed request is fatal, as
# the measurements that follow rely on a complete cache.
warm() {
    local out
    out=$(load "$1" --connections "$WARMUP_CONNECTIONS" --warmup-only --domains "$2")
    [[ $(field "$out" errors) == 0 ]] || die "warm-up failed: $out"
    [[ $(field "$out" requests) == "$2" ]] || die "warm-up incomplete: $out"
}

# Peak resident set size of PID in MiB.
peak_rss_mib() {
    awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}

TOOLS=$TMP/bin
"$HERE/build.sh" "$TOOLS"
start_nsd

TRIVIAL_PORT=$(free_port)
"$TOOLS/trivial_responder" "$TRIVIAL_PORT" 2>>"$TMP/trivial.log" &
TRIVIAL_PID=$!
PIDS+=("$TRIVIAL_PID")
wait_ready "$TRIVIAL_PID" "$TMP/trivial.log"

start_daemon throughput
warm "$DAEMON_PORT" "$CACHED_DOMAINS"

ROWS=()
NOTES=()
for c in "${CONNECTION_COUNTS[@]}"; do
    echo "run_policy_bench: $c connection(s), ${SECONDS_PER_RUN}s each" >&2
    trivial=$(load "$TRIVIAL_PORT" --connections "$c" --seconds "$SECONDS_PER_RUN" --domains "$CACHED_DOMAINS")
    daemon=$(load "$DAEMON_PORT" --connections "$c" --seconds "$SECONDS_PER_RUN" --domains "$CACHED_DOMAINS")
    kill -0 "$DAEMON_PID" 2>/dev/null || die "mxwardend died during the run with $c connections"
    echo "  trivial:   $trivial" >&2
    echo "  mxwardend: $daemon" >&2
    t_rps=$(field "$trivial" rps)
    d_rps=$(field "$daemon" rps)
    ratio=$(awk -v d="$d_rps" -v t="$t_rps" 'BEGIN { printf "%.2f", (t > 0 ? d / t : 0) }')
    ROWS+=("| $c | $t_rps | $d_rps | $ratio | $(field "$daemon" p50_us) | $(field "$daemon" p99_us) | $(field "$daemon" p999_us) |")
    for run in "trivial:$trivial" "mxwardend:$daemon"; do
        errors=$(field "${run#*:}" errors)
        [[ $errors == 0 ]] || NOTES+=("$errors failed requests against ${run%%:*} with $c connection(s)")
    done
done
stop "$DAEMON_PID"

start_daemon memory
rss_start=$(peak_rss_mib "$DAEMON_PID")
warm "$DAEMON_PORT" "$MEMORY_DOMAINS"
rss_warm=$(peak_rss_mib "$DAEMON_PID")
stop "$DAEMON_PID"

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
