# shellcheck shell=bash
# What run_policy_bench.sh and run_socketmap_bench.sh share. The integration tests' libraries bring the work
# directory (kept when a run fails), the EXIT trap that stops every process started here, free ports and nsd.
#
#   bench_begin NAME BUILD_DIR     $work, the tools built into $TOOLS, $BUILD_DIR; NAME prefixes every complaint
#   die MESSAGE                    complain and exit 1
#   bench_start_nsd PORT ZONE_FILE nsd on 127.0.0.1@PORT serving the zone bench.test from ZONE_FILE
#   bench_start_daemon LOG ARGS... mxwardend with ARGS (or $MXW_BENCH_DAEMON_CMD, see the scripts), ready;
#                                  sets DAEMON_PID
#   bench_start_tool LOG TOOL ARGS...  one of the tools in $TOOLS (a trivial responder), ready
#   bench_compare LOAD_TOOL CONNECTIONS ARGS... -- FIELD...
#                                  one LOAD_TOOL run against the trivial responder ($TRIVIAL_PORT), one against
#                                  mxwardend ($DAEMON_PORT): a row in ROWS, and a line in NOTES for each FIELD
#                                  (errors, say) that is not 0 in either
#   field LINE KEY                 the value of KEY in a key=value line
#   peak_rss_mib PID               peak resident set size of PID in MiB
#
# The socketmap zone (run_socketmap_bench.sh, run_fleet_bench.sh), from DOMAINS, MX_HOSTS and MX_FIRST_OCTET:
#   bench_check_mx_addresses_idle  die if anything listens on port 25 of an MX address (it would be probed)
#   bench_write_mx_zone            the zone bench.test on stdout: dK MX mx(K % MX_HOSTS), mxM A 127.0.0.(FIRST + M)
#   bench_socketmap_warm PORT LOG PID
#                                  every domain until it answers a route, the probes settled, then once more
#                                  (WARMUP_CONNECTIONS, WARMUP_TIMEOUT); then bench_wait_writes_settle PID
#   bench_wait_writes_settle PID   until PID has made no write system call for 1 s (at most 120 s)

# shellcheck source=../integration/lib/dns.sh
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib/dns.sh"

bench_begin() {
    bench_name=${1:?usage: bench_begin NAME BUILD_DIR}
    [[ $# -eq 2 ]] || die "usage: $bench_name.sh BUILD_DIR"
    BUILD_DIR=$(realpath "$2")
    if [[ -z ${MXW_BENCH_DAEMON_CMD:-} && ! -x $BUILD_DIR/mxwardend ]]; then
        die "$BUILD_DIR/mxwardend not found"
    fi
    mxw_begin "$bench_name"
    TOOLS=$work/bin
    "$(dirname "${BASH_SOURCE[0]}")/build.sh" "$TOOLS"
    ROWS=()
    NOTES=()
}

die() {
    echo "$bench_name: $*" >&2
    exit 1
}

bench_start_nsd() {
    mxw_start_nsd_with_zone "$work/nsd" "$1" bench.test "$2" || die "nsd did not answer on port $1"
}

# MXW_BENCH_DAEMON_CMD replaces the mxwardend command line: bash runs it with exec (so its PID is the daemon's),
# with the MXW_BENCH_* variables the caller sets. It must print "event=ready" on stderr once it accepts
# connections.
bench_start_daemon() {
    local log=$1
    shift
    if [[ -n ${MXW_BENCH_DAEMON_CMD:-} ]]; then
        MXW_BENCH_TOOLS=$TOOLS bash -c "exec $MXW_BENCH_DAEMON_CMD" 2>>"$log" &
    else
        "$BUILD_DIR/mxwardend" "$@" 2>>"$log" &
    fi
    DAEMON_PID=$!
    mxw_track_pid "$DAEMON_PID"
    mxw_wait_log 10 "$log" 'event=ready' "$DAEMON_PID" || die "mxwardend (pid $DAEMON_PID) did not get ready"
}

bench_start_tool() {
    local log=$1 tool=$2
    shift 2
    "$TOOLS/$tool" "$@" 2>>"$log" &
    mxw_track_pid $!
    mxw_wait_log 10 "$log" 'event=ready' $! || die "$tool did not get ready"
}

# load TOOL PORT ARGS...: one run; prints its key=value line.
load() {
    local tool=$1 port=$2
    shift 2
    "$TOOLS/$tool" --port "$port" "$@" || die "$tool --port $port $* failed"
}

bench_compare() {
    local tool=$1 c=$2 args=() trivial daemon t_rps d_rps ratio run what n
    shift 2
    while [[ $1 != -- ]]; do args+=("$1"); shift; done
    shift
    echo "$bench_name: $c connection(s), ${SECONDS_PER_RUN}s each" >&2
    trivial=$(load "$tool" "$TRIVIAL_PORT" --connections "$c" --seconds "$SECONDS_PER_RUN" "${args[@]}")
    daemon=$(load "$tool" "$DAEMON_PORT" --connections "$c" --seconds "$SECONDS_PER_RUN" "${args[@]}")
    kill -0 "$DAEMON_PID" 2>/dev/null || die "mxwardend died during the run with $c connections"
    echo "  trivial:   $trivial" >&2
    echo "  mxwardend: $daemon" >&2
    t_rps=$(field "$trivial" rps)
    d_rps=$(field "$daemon" rps)
    ratio=$(awk -v d="$d_rps" -v t="$t_rps" 'BEGIN { printf "%.2f", (t > 0 ? d / t : 0) }')
    ROWS+=("| $c | $t_rps | $d_rps | $ratio | $(field "$daemon" p50_us) | $(field "$daemon" p99_us) | $(field "$daemon" p999_us) |")
    for run in "trivial:$trivial" "mxwardend:$daemon"; do
        for what in "$@"; do
            n=$(field "${run#*:}" "$what")
            [[ $n == 0 ]] || NOTES+=("$n $what against ${run%%:*} with $c connection(s)")
        done
    done
}

field() {
    local kv
    for kv in $1; do
        [[ $kv == "$2="* ]] && { echo "${kv#*=}"; return 0; }
    done
    die "no $2= in: $1"
}

peak_rss_mib() {
    awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}

# The MX addresses must refuse connections: a listener there (an integration
# test's SMTP fixture, say) would be probed, i.e. sent SMTP traffic, and would
# change the answers while they are measured.
bench_check_mx_addresses_idle() {
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

bench_write_mx_zone() {
    local i
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
}

# Every domain until its answer is a route (OK mxw:...), then once more after
# the probes have settled: the measurements rely on a complete, still cache.
bench_socketmap_warm() {
    local port=$1 log=$2 pid=$3 out
    out=$(load socketmap_load "$port" --connections "$WARMUP_CONNECTIONS" --warmup-only --domains "$DOMAINS" \
        --timeout "$WARMUP_TIMEOUT")
    echo "  warm-up: $out" >&2
    [[ $(field "$out" ready) == "$DOMAINS" ]] || die "warm-up incomplete: $out"
    # Each MX address gets one probe (refused at once); wait until none runs,
    # so that no health change lands inside a measurement.
    mxw_poll 10 _bench_probes_logged "$log" ||
        echo "$bench_name: warning: fewer than $MX_HOSTS probes logged after the warm-up" >&2
    grep 'event=probe ' "$log" | grep -v 'result=refused' | head -n 3 |
        sed "s/^/$bench_name: warning: probe not refused: /" >&2 || true
    out=$(load socketmap_load "$port" --connections "$WARMUP_CONNECTIONS" --warmup-only --domains "$DOMAINS" \
        --timeout 5)
    [[ $(field "$out" mismatched) == 0 && $(field "$out" errors) == 0 ]] || die "cache not warm after warm-up: $out"
    bench_wait_writes_settle "$pid"
}

_bench_probes_logged() { (($(grep -c 'event=probe ' "$1" || true) >= MX_HOSTS)); }

# Every new route is saved to SQLite with an fsync on a thread of its own, and
# 1000 of them take seconds: measured alongside, they would take CPU from the
# loop and make the first rows depend on disk speed.
bench_wait_writes_settle() {
    local pid=$1 before after i
    before=$(awk '/^syscw:/ { print $2 }' "/proc/$pid/io")
    for ((i = 0; i < 120; i++)); do
        sleep 1
        after=$(awk '/^syscw:/ { print $2 }' "/proc/$pid/io")
        [[ $after != "$before" ]] || return 0
        before=$after
    done
    echo "$bench_name: warning: mxwardend still writing after 120 s" >&2
}
