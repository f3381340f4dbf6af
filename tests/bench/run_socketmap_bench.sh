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

die() {
    echo "run_socketmap_bench: $*" >&2
    exit 1
}

[[ $# -eq 1 ]] || die "usage: run_socketmap_bench.sh BUILD_DIR"
BUILD_DIR=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ -z ${MXW_BENCH_DAEMON_CMD:-} && ! -x $BUILD_DIR/mxwardend ]]; then
    die "$BUILD_DIR/mxwardend not found"
fi

TMP=$(mktemp -d /tmp/mxw-smap-bench.XXXXXX)
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

# COUNT loopback ports, distinct, each free for both TCP and UDP (nsd needs
# both). All stay bound until every one is found. Another process could take
# one before we bind it; on loopback of a test box it won't.
free_ports() {
    /usr/bin/python3 - "$1" <<'EOF'
import socket, sys
held, ports = [], []
while len(ports) < int(sys.argv[1]):
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    held.append(tcp)
    port = tcp.getsockname()[1]
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        udp.bind(("127.0.0.1", port))
    except OSError:
        continue
    held.append(udp)
    ports.append(port)
print(*ports)
EOF
}

# The MX addresses must refuse connections: a listener there (an integration
# test's SMTP fixture, say) would be probed, i.e. sent SMTP traffic, and would
# change the answers while they are measured.
check_mx_addresses_idle() {
    local addr host octet
    while read -r addr; do
        host=${addr%:25}
        case $host in
        0.0.0.0 | '*' | '[::]' | '[::ffff:0.0.0.0]') die "something listens on port 25 of every address: $addr" ;;
        127.0.0.*)
            octet=${host##*.}
            ((octet < MX_FIRST_OCTET || octet >= MX_FIRST_OCTET + MX_HOSTS)) ||
                die "something listens on a benchmark MX address: $addr"
            ;;
        esac
    done < <(ss -Htln 'sport = :25' | awk '{ print $4 }')
}

# wait_ready PID LOG: until LOG shows event=ready; fails if PID dies first.
wait_ready() {
    local pid=$1 log=$2 i
    for ((i = 0; i < 200; i++)); do
        # -s: the log appears only once the child has opened it.
        grep -qs 'event=ready' "$log" && return 0
        kill -0 "$pid" 2>/dev/null || { tail -n 20 "$log" >&2; die "process $pid exited before event=ready"; }
        sleep 0.05
    done
    tail -n 20 "$log" >&2
    die "process $pid not ready after 10 s"
}

# stop PID: SIGTERM, then SIGKILL if it is still there after 5 s; sets
# STOP_STATUS to its exit status. The PID is dropped from PIDS so that cleanup
# never signals a process that reused it.
stop() {
    local pid=$1 i
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
    STOP_STATUS=0
    wait "$pid" 2>/dev/null || STOP_STATUS=$?
    for i in "${!PIDS[@]}"; do
        [[ ${PIDS[i]} != "$pid" ]] || unset 'PIDS[i]'
    done
}

start_nsd() {
    local dir=$TMP/nsd i
    mkdir -p "$dir"
    {
        cat <<'EOF'
$ORIGIN bench.test.
; TTLs outlast the whole benchmark so that the cache stays warm throughout.
$TTL 86400
@    SOA ns.bench.test. hostmaster.bench.test. 1 3600 600 86400 86400
@    NS  ns.bench.test.
ns   A   127.0.0.1
EOF
        for ((i = 0; i < MX_HOSTS; i++)); do
            echo "mx$i A 127.0.0.$((MX_FIRST_OCTET + i))"
        done
        for ((i = 0; i < DOMAINS; i++)); do
            echo "d$i MX 10 mx$((i % MX_HOSTS))"
        done
    } >"$dir/bench.test.zone"
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
        if [[ $(dig @127.0.0.1 -p "$NSD_PORT" d$((DOMAINS - 1)).bench.test MX +short +time=1 +tries=1 2>/dev/null) == \
            "10 mx$(((DOMAINS - 1) % MX_HOSTS)).bench.test." ]]; then
            return 0
        fi
        sleep 0.1
    done
    tail -n 20 "$dir/nsd.log" >&2
    die "nsd did not answer on port $NSD_PORT"
}

# Starts mxwardend (or MXW_BENCH_DAEMON_CMD) with a fresh state directory;
# sets DAEMON_PID.
#  - routing.deny-addresses keeps only 0.0.0.0/8: loopback stands in for
#    remote MX hosts here, as in the integration tests. The local-address
#    rule still denies 127.0.0.1, which the zone never uses for an MX.
#  - probe.dead-backoff and max-backoff of 1 h: the refused MX hosts are not
#    probed again during the run, so the health table, and with it every
#    answer, stays as it was after the warm-up.
start_daemon() {
    local state=$TMP/daemon
    DAEMON_LOG=$TMP/daemon.log
    mkdir -p "$state"
    if [[ -n ${MXW_BENCH_DAEMON_CMD:-} ]]; then
        MXW_BENCH_PORT=$DAEMON_PORT MXW_BENCH_POLICY_PORT=$POLICY_PORT MXW_BENCH_STATE_DIR=$state \
            MXW_BENCH_DNS_PORT=$NSD_PORT MXW_BENCH_TOOLS=$TOOLS bash -c "exec $MXW_BENCH_DAEMON_CMD" 2>>"$DAEMON_LOG" &
    else
        "$BUILD_DIR/mxwardend" --daemon.state-dir="$state" \
            --listen.socketmap="inet:127.0.0.1:$DAEMON_PORT" --listen.policy="inet:127.0.0.1:$POLICY_PORT" \
            --listen.control="unix:$state/control.sock" \
            --dns.forwarders="127.0.0.1@$NSD_PORT" --dns.transparent-zones="test." \
            --routing.deny-addresses=0.0.0.0/8 --probe.connect-timeout=2s \
            --probe.dead-backoff=1h --probe.max-backoff=1h 2>>"$DAEMON_LOG" &
    fi
    DAEMON_PID=$!
    PIDS+=("$DAEMON_PID")
    wait_ready "$DAEMON_PID" "$DAEMON_LOG"
}

# load PORT ARGS...: one socketmap_load run; prints its key=value line.
load() {
    local port=$1
    shift
    "$TOOLS/socketmap_load" --port "$port" "$@" || die "socketmap_load --port $port $* failed"
}

# field LINE KEY: the value of KEY in a key=value line.
field() {
    local kv
    for kv in $1; do
        [[ $kv == "$2="* ]] && { echo "${kv#*=}"; return 0; }
    done
    die "no $2= in: $1"
}

# Every domain until its answer is a route (OK mxw:...), then once more after
# the probes have settled: the measurements rely on a complete, still cache.
warm() {
    local out i
    out=$(load "$DAEMON_PORT" --connections "$WARMUP_CONNECTIONS" --warmup-only --domains "$DOMAINS" \
        --timeout "$WARMUP_TIMEOUT")
    echo "  warm-up: $out" >&2
    [[ $(field "$out" ready) == "$DOMAINS" ]] || die "warm-up incomplete: $out"
    # Each MX address gets one probe (refused at once); wait until none runs,
    # so that no health change lands inside a measurement.
    for ((i = 0; i < 100; i++)); do
        (($(grep -c 'event=probe ' "$DAEMON_LOG" || true) >= MX_HOSTS)) && break
        sleep 0.1
    done
    (($(grep -c 'event=probe ' "$DAEMON_LOG" || true) >= MX_HOSTS)) ||
        echo "run_socketmap_bench: warning: fewer than $MX_HOSTS probes logged after the warm-up" >&2
    grep 'event=probe ' "$DAEMON_LOG" | grep -v 'result=refused' | head -n 3 |
        sed 's/^/run_socketmap_bench: warning: probe not refused: /' >&2 || true
    out=$(load "$DAEMON_PORT" --connections "$WARMUP_CONNECTIONS" --warmup-only --domains "$DOMAINS" --timeout 5)
    [[ $(field "$out" mismatched) == 0 && $(field "$out" errors) == 0 ]] || die "cache not warm after warm-up: $out"
    wait_writes_settle "$DAEMON_PID"
}

# wait_writes_settle PID: until PID has made no write system call for 1 s
# (at most 120 s). Every new route is saved to SQLite with an fsync on a
# thread of its own, and 1000 of them take seconds: measured alongside, they
# would take CPU from the loop and make the first rows depend on disk speed.
wait_writes_settle() {
    local pid=$1 before after i
    before=$(awk '/^syscw:/ { print $2 }' "/proc/$pid/io")
    for ((i = 0; i < 120; i++)); do
        sleep 1
        after=$(awk '/^syscw:/ { print $2 }' "/proc/$pid/io")
        [[ $after != "$before" ]] || return 0
        before=$after
    done
    echo "run_socketmap_bench: warning: mxwardend still writing after 120 s" >&2
}

# Peak resident set size of PID in MiB.
peak_rss_mib() {
    awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}

TOOLS=$TMP/bin
"$HERE/build.sh" "$TOOLS"
check_mx_addresses_idle
read -r NSD_PORT TRIVIAL_PORT DAEMON_PORT POLICY_PORT < <(free_ports 4)
start_nsd

"$TOOLS/trivial_socketmap" "$TRIVIAL_PORT" "mxw:[127.0.0.$MX_FIRST_OCTET]:25" 2>>"$TMP/trivial.log" &
TRIVIAL_PID=$!
PIDS+=("$TRIVIAL_PID")
wait_ready "$TRIVIAL_PID" "$TMP/trivial.log"

start_daemon
rss_start=$(peak_rss_mib "$DAEMON_PID")
warm

ROWS=()
NOTES=()
for c in "${CONNECTION_COUNTS[@]}"; do
    echo "run_socketmap_bench: $c connection(s), ${SECONDS_PER_RUN}s each" >&2
    trivial=$(load "$TRIVIAL_PORT" --connections "$c" --seconds "$SECONDS_PER_RUN" --domains "$DOMAINS")
    daemon=$(load "$DAEMON_PORT" --connections "$c" --seconds "$SECONDS_PER_RUN" --domains "$DOMAINS")
    kill -0 "$DAEMON_PID" 2>/dev/null || die "mxwardend died during the run with $c connections"
    echo "  trivial:   $trivial" >&2
    echo "  mxwardend: $daemon" >&2
    t_rps=$(field "$trivial" rps)
    d_rps=$(field "$daemon" rps)
    ratio=$(awk -v d="$d_rps" -v t="$t_rps" 'BEGIN { printf "%.2f", (t > 0 ? d / t : 0) }')
    ROWS+=("| $c | $t_rps | $d_rps | $ratio | $(field "$daemon" p50_us) | $(field "$daemon" p99_us) | $(field "$daemon" p999_us) |")
    for run in "trivial:$trivial" "mxwardend:$daemon"; do
        for what in errors mismatched; do
            n=$(field "${run#*:}" "$what")
            [[ $n == 0 ]] || NOTES+=("$n $what lookups against ${run%%:*} with $c connection(s)")
        done
    done
done
rss_end=$(peak_rss_mib "$DAEMON_PID")
stop "$DAEMON_PID"
# A clean SIGTERM exit is 0; a crash on the way out is worth knowing about.
[[ $STOP_STATUS == 0 ]] || NOTES+=("mxwardend exited with status $STOP_STATUS on SIGTERM")

echo
echo "| connections | trivial lookups/s | mxwardend lookups/s | ratio | p50 µs | p99 µs | p99.9 µs |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
echo
echo "Latencies are mxwardend's; ${SECONDS_PER_RUN}s per run; keys user<N>@d<K>.bench.test over $DOMAINS warm domains, every 10th key \"*\"."
echo "mxwardend peak RSS (VmHWM): $rss_end MiB after the run ($rss_start MiB at startup)."
for note in "${NOTES[@]}"; do
    echo "WARNING: $note"
done
