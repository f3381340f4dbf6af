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
