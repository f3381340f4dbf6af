#!/usr/bin/env bash
# Fleet benchmark (issue 12): socketmap and policy throughput of mxwardend with
# store.url set (a PostgreSQL fleet node) against the same mxwardend on its
# SQLite state alone, measured in the same run. The database is never in the
# lookup path, so the two should match (target: within 10 %).
#
# usage: run_fleet_bench.sh BUILD_DIR      (BUILD_DIR/mxwardend is the daemon)
#
# A throwaway PostgreSQL 15 (../integration/lib/pg.sh: initdb + pg_ctl as an
# unprivileged user in the work directory, unix socket) and two mxwardend run
# side by side: "sqlite" (no store.url) and "pg" (store.url = that server's
# socket, store.node = bench-pg), each with its own state directory and ports,
# otherwise with the flags and the zone of run_socketmap_bench.sh (d0..d999 one
# MX each, 50 MX hosts on 127.0.0.200-249 where nothing listens). Both are
# warmed (socketmap: every domain answers a route; policy: every sender domain
# asked once) and measured once their route stores stopped writing.
#
# For each connection count, each load tool runs RUNS_PER_STORE times
# SECONDS_PER_RUN seconds against each, in the order sqlite, pg, pg, sqlite,
# sqlite, pg, ... (so a drift in the machine's load falls on both alike); the
# table shows each store's median rate and p99 and the ratio of the medians,
# and the median CPU time mxwardend used per request (all its threads, from
# /proc/PID/task/*/schedstat): on a busy machine the rates follow whatever
# else runs, the CPU cost of a request much less. Every run's figures are
# listed below the tables. What the pg node's log says about the fleet link
# (store-down lines: this build may have no fleet-state backend yet, or it may
# be connected) is printed with the tables, as is the fleet link's state.
set -euo pipefail

SECONDS_PER_RUN=1
RUNS_PER_STORE=6
CONNECTION_COUNTS=(1 8 64)
DOMAINS=1000
MX_HOSTS=50
MX_FIRST_OCTET=200 # MX host i has address 127.0.0.(MX_FIRST_OCTET + i)
WARMUP_CONNECTIONS=64
WARMUP_TIMEOUT=60
STORES=(sqlite pg)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=../integration/lib/pg.sh
source "$here/../integration/lib/pg.sh"
bench_begin run_fleet_bench "$@"

declare -A SOCKETMAP_PORT POLICY_PORT PID LOG rss
SPREAD=()
CPU_SPREAD=()

# start_daemon NAME ARGS...: mxwardend with a fresh state directory $work/NAME
# and ARGS; sets PID[NAME] and LOG[NAME]. Flags as in run_socketmap_bench.sh.
start_daemon() {
    local name=$1 state=$work/$1
    shift
    mkdir -p "$state"
    LOG[$name]=$work/$name.log
    bench_start_daemon "${LOG[$name]}" --daemon.state-dir="$state" \
        --listen.socketmap="inet:127.0.0.1:${SOCKETMAP_PORT[$name]}" \
        --listen.policy="inet:127.0.0.1:${POLICY_PORT[$name]}" --listen.control="unix:$state/control.sock" \
        --listen.metrics="unix:$state/metrics.sock" --dns.forwarders="127.0.0.1@$NSD_PORT" --dns.transparent-zones="test." \
        --routing.deny-addresses=0.0.0.0/8 --probe.connect-timeout=2s \
        --probe.dead-backoff=1h --probe.max-backoff=1h "$@"
    PID[$name]=$DAEMON_PID
}

warm() {
    local name=$1 out
    echo "$bench_name: warming $name" >&2
    out=$(load policy_load "${POLICY_PORT[$name]}" --connections "$WARMUP_CONNECTIONS" --warmup-only \
        --domains "$DOMAINS")
    [[ $(field "$out" errors) == 0 && $(field "$out" requests) == "$DOMAINS" ]] ||
        die "policy warm-up of $name failed: $out"
    bench_socketmap_warm "${SOCKETMAP_PORT[$name]}" "${LOG[$name]}" "${PID[$name]}"
}

# cpu_ns PID: the CPU time all of PID's threads have used, in nanoseconds.
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{ t += $1 } END { printf "%.0f", t }'; }

# run TOOL NAME C ARGS...: one run against NAME; prints its key=value line
# with cpu_ns_per_req= (the daemon's CPU time per answered request) added.
run() {
    local tool=$1 name=$2 c=$3 port out n what before
    shift 3
    if [[ $tool == policy_load ]]; then port=${POLICY_PORT[$name]}; else port=${SOCKETMAP_PORT[$name]}; fi
    before=$(cpu_ns "${PID[$name]}")
    out=$(load "$tool" "$port" --connections "$c" --seconds "$SECONDS_PER_RUN" --domains "$DOMAINS" "$@")
    kill -0 "${PID[$name]}" 2>/dev/null || die "mxwardend $name died during a $tool run with $c connections"
    out+=" cpu_ns_per_req=$((($(cpu_ns "${PID[$name]}") - before) / $(field "$out" requests)))"
    for what in errors mismatched; do
        [[ $out == *" $what="* || $out == "$what="* ]] || continue
        n=$(field "$out" "$what")
        [[ $n == 0 ]] || NOTES+=("$n $what from $tool against $name with $c connection(s)")
    done
    echo "  $tool $name: $out" >&2
    echo "$out"
}

# median N...: the median of integers (the lower middle one of an even count).
median() { printf '%s\n' "$@" | sort -n | sed -n "$(((${#} + 1) / 2))p"; }

# compare TOOL C ARGS...: RUNS_PER_STORE runs against each store, in the
# order sqlite pg pg sqlite sqlite pg ...; a row in ROWS.
compare() {
    local tool=$1 c=$2 name out ratio i
    shift 2
    local -a sqlite_rps=() pg_rps=() sqlite_p99=() pg_p99=() sqlite_cpu=() pg_cpu=() order=()
    echo "$bench_name: $tool, $c connection(s), $RUNS_PER_STORE runs of ${SECONDS_PER_RUN}s per store" >&2
    for ((i = 0; i < RUNS_PER_STORE; i++)); do
        if ((i % 2 == 0)); then order+=(sqlite pg); else order+=(pg sqlite); fi
    done
    for name in "${order[@]}"; do
        out=$(run "$tool" "$name" "$c" "$@")
        if [[ $name == sqlite ]]; then
            sqlite_rps+=("$(field "$out" rps)")
            sqlite_p99+=("$(field "$out" p99_us)")
            sqlite_cpu+=("$(field "$out" cpu_ns_per_req)")
        else
            pg_rps+=("$(field "$out" rps)")
            pg_p99+=("$(field "$out" p99_us)")
            pg_cpu+=("$(field "$out" cpu_ns_per_req)")
        fi
    done
    local s p sc pc cpu_ratio
    s=$(median "${sqlite_rps[@]}")
    p=$(median "${pg_rps[@]}")
    ratio=$(awk -v p="$p" -v s="$s" 'BEGIN { printf "%.2f", (s > 0 ? p / s : 0) }')
    sc=$(median "${sqlite_cpu[@]}")
    pc=$(median "${pg_cpu[@]}")
    cpu_ratio=$(awk -v p="$pc" -v s="$sc" 'BEGIN { printf "%.2f", (s > 0 ? p / s : 0) }')
    ROWS+=("| $c | $s | $p | $ratio | $(median "${sqlite_p99[@]}") | $(median "${pg_p99[@]}") | $((sc / 1000)).$(((sc % 1000) / 100)) | $((pc / 1000)).$(((pc % 1000) / 100)) | $cpu_ratio |")
    SPREAD+=("$tool $c: SQLite ${sqlite_rps[*]}; store.url ${pg_rps[*]}")
    CPU_SPREAD+=("$tool $c: SQLite ${sqlite_cpu[*]}; store.url ${pg_cpu[*]}")
    if awk -v r="$ratio" 'BEGIN { exit !(r < 0.90 || r > 1.10) }'; then
        NOTES+=("$tool with $c connection(s): store.url/SQLite ratio $ratio is outside 0.90-1.10")
    fi
}

table() {
    echo
    echo "$1"
    echo "| connections | SQLite $2/s | store.url $2/s | ratio | SQLite p99 µs | store.url p99 µs | SQLite CPU µs/req | store.url CPU µs/req | CPU ratio |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    shift 2
    printf '%s\n' "$@"
}

bench_check_mx_addresses_idle
mxw_start_pg "$work/pg"
read -r NSD_PORT 'SOCKETMAP_PORT[sqlite]' 'POLICY_PORT[sqlite]' 'SOCKETMAP_PORT[pg]' 'POLICY_PORT[pg]' < <(mxw_free_port 5)
bench_write_mx_zone >"$work/bench.test.zone"
bench_start_nsd "$NSD_PORT" "$work/bench.test.zone"

start_daemon sqlite
start_daemon pg --store.url="$MXW_PG_URL" --store.node=bench-pg
for name in "${STORES[@]}"; do warm "$name"; done

for c in "${CONNECTION_COUNTS[@]}"; do
    compare socketmap_load "$c"
done
SOCKETMAP_ROWS=("${ROWS[@]}")
ROWS=()
for c in "${CONNECTION_COUNTS[@]}"; do
    compare policy_load "$c"
done

# What the pg node's link to the fleet did meanwhile.
fleet_metrics=$(curl -sf --unix-socket "$work/pg/metrics.sock" http://localhost/metrics |
    grep -E '^mxwarden_(store|fleet)' || true)
store_down=$(grep -c 'event=store-down' "${LOG[pg]}" || true)
first_down=$(grep -m 1 -o 'event=store-down .*' "${LOG[pg]}" || true)
routes_from=$(grep -m 1 -o 'event=routes-restored .*' "${LOG[pg]}" || true)
for name in "${STORES[@]}"; do
    rss[$name]=$(peak_rss_mib "${PID[$name]}")
    stop_status=0
    mxw_stop_pid "${PID[$name]}" || stop_status=$?
    ((stop_status == 0)) || NOTES+=("mxwardend $name exited with status $stop_status on SIGTERM")
done

table "socketmap (transport map)" lookups "${SOCKETMAP_ROWS[@]}"
table "policy service" requests "${ROWS[@]}"
echo
echo "Rates and p99 are the medians of $RUNS_PER_STORE runs of ${SECONDS_PER_RUN}s per store (order SQLite, store.url, store.url, SQLite, ...). Every run's rate:"
printf '  %s\n' "${SPREAD[@]}"
echo "CPU per request (the daemon's threads, /proc/PID/task/*/schedstat; less moved by other work than the rates), ns, every run:"
printf '  %s\n' "${CPU_SPREAD[@]}"
echo "store.url node: $store_down store-down line(s) in its log${first_down:+; first: $first_down}"
echo "store.url node at start: ${routes_from:-no routes-restored line}"
[[ -z $fleet_metrics ]] || { echo "store.url node's metrics at the end:"; echo "$fleet_metrics"; }
echo "peak RSS (VmHWM): SQLite ${rss[sqlite]} MiB, store.url ${rss[pg]} MiB."
for note in "${NOTES[@]}"; do
    echo "WARNING: $note"
done
