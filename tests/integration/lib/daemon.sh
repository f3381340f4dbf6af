# shellcheck shell=bash
# The mxwarden daemon, CLI and milter as the integration tests run them. Source this file, then:
#
#   mxw_start_daemon STATE_DIR LOGFILE --dns.forwarders=127.0.0.1@PORT [--section.key=value ...]
#                              sets MXW_DAEMON_PID, MXW_DAEMON_STATE_DIR
#   mxw_cli check sender a@good.mxw.test --json       the CLI, aimed at MXW_DAEMON_STATE_DIR
#   mxw_ask sender a@good.mxw.test                    a check's verdict: sets result, action, reply, evidence, json, ms
#   want WHAT VALUE ERE, want_ok, want_tempfail        judge it
#   mxw_stop_daemon [PID]                              default: MXW_DAEMON_PID
#   mxw_start_milter LOG ARGS...                       mxwarden-milter, ready; sets MXW_MILTER_PID
#
# Daemons and milters still running stop when the script exits. Call the start functions directly, never inside
# $(...), for the same reason as the lib/dns.sh start functions: the PID they record would be lost in a subshell.

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
MXW_DAEMON_PIDS=()

# mxw_start_daemon STATE_DIR LOGFILE [--section.key=value ...]: start mxwardend in the background, its stderr
# appended to LOGFILE, and return once it logs event=ready (10 s at most; otherwise print the log and fail).
# The test zones need dns.transparent-zones (libunbound answers test. and 127.in-addr.arpa. itself otherwise);
# later overrides win. A dns.forwarders override is required: the daemon's default resolver is the host's
# /etc/resolv.conf, which points off the machine.
mxw_start_daemon() {
    local state_dir=${1:?usage: mxw_start_daemon STATE_DIR LOGFILE [--key=value ...]} log=${2:?usage: mxw_start_daemon STATE_DIR LOGFILE [--key=value ...]}
    shift 2
    local arg forwarders='' fwd list
    for arg in "$@"; do
        if [[ $arg == --dns.forwarders=* ]]; then forwarders=${arg#--dns.forwarders=}; fi
    done
    read -ra list <<<"${forwarders//,/ }"
    # "none" stands in for an empty list, which must fail too.
    for fwd in "${list[@]}" "${list[0]-none}"; do
        if [[ $fwd != 127.* ]]; then
            echo "mxw-daemon: give --dns.forwarders=127.x.y.z@PORT (test servers only), not '$forwarders'" >&2
            return 1
        fi
    done
    mkdir -p "$state_dir"
    touch "$log"
    # The log may hold an earlier run's lines (a restart appends): only what this run writes counts.
    local skip
    skip=$(($(wc -c <"$log") + 1))
    # The socketmap and metrics listeners default to fixed ports; tests that run side by side keep the socketmap on a
    # unix socket of their own and the metrics off, unless they pass --listen.socketmap or --listen.metrics
    # themselves (later options win).
    "$MXW_BUILD/mxwardend" --daemon.state-dir="$state_dir" --dns.transparent-zones="test. 127.in-addr.arpa." \
        --listen.socketmap="unix:$state_dir/socketmap.sock" --listen.metrics= "$@" \
        2>>"$log" &
    MXW_DAEMON_PID=$!
    MXW_DAEMON_PIDS+=("$MXW_DAEMON_PID")
    MXW_DAEMON_STATE_DIR=$state_dir
    mxw_track_pid "$MXW_DAEMON_PID"
    _mxw_await 10 "event=ready from mxwardend (pid $MXW_DAEMON_PID)" "$MXW_DAEMON_PID" "" _mxw_ready_since "$log" "$skip" ||
        { tail -c +"$skip" "$log" >&2; return 1; }
}

_mxw_ready_since() { tail -c +"$2" "$1" | grep 'event=ready' >/dev/null; }

# mxw_stop_daemon [PID]: SIGTERM (SIGKILL after 5 s) and reap; PID defaults to MXW_DAEMON_PID. Returns 1, saying
# why, if the daemon had to be killed or did not exit with status 0 (e.g. it had crashed before), so tests notice a
# daemon that does not shut down cleanly. Stopping a daemon that was already stopped does nothing.
mxw_stop_daemon() {
    local pid=${1:-${MXW_DAEMON_PID:-}} i status=0 kept=() known=
    for i in "${MXW_DAEMON_PIDS[@]}"; do
        if [[ $i == "$pid" ]]; then known=yes; else kept+=("$i"); fi
    done
    [[ -n $known ]] || return 0
    MXW_DAEMON_PIDS=("${kept[@]}")
    [[ $pid != "${MXW_DAEMON_PID:-}" ]] || MXW_DAEMON_PID=
    mxw_stop_pid "$pid" || status=$?
    if ((status != 0)); then
        echo "mxw-daemon: mxwardend (pid $pid) did not exit cleanly (status $status)" >&2
        return 1
    fi
}

# mxw_cli ARGS...: the mxwarden CLI, finding the daemon through MXW_DAEMON_STATE_DIR (the control socket is
# STATE_DIR/control.sock). Set MXW_DAEMON_STATE_DIR for one call to ask another daemon.
mxw_cli() {
    "$MXW_BUILD/mxwarden" --daemon.state-dir="${MXW_DAEMON_STATE_DIR:?no daemon started}" "$@"
}

# mxw_ask sender ADDRESS | mxw_ask client IP: the daemon's verdict as `mxwarden check ... --json` reports it (it
# bypasses the verdict cache). Sets json, result, action, reply and evidence (newlines folded) and the wall time in
# ms; a CLI failure or unreadable JSON is a failure (fail).
mxw_ask() {
    local kind=$1 subject=$2 t0 rc=0 fields
    t0=$(date +%s%N)
    json=$(mxw_cli check "$kind" "$subject" --json 2>&1) || rc=$?
    ms=$((($(date +%s%N) - t0) / 1000000))
    result='' action='' reply='' evidence=''
    if ((rc)); then
        fail "mxwarden check $kind $subject exited $rc: $json"
        return
    fi
    fields=$("$MXW_PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
f = d["findings"][0]
print(f["result"], d["action"], sep="\n")
print(d["reply"].replace("\n", " "))
print(f["evidence"].replace("\n", " "))' <<<"$json") || {
        fail "mxwarden check $kind $subject --json printed no usable JSON: $json"
        return
    }
    { IFS= read -r result; IFS= read -r action; IFS= read -r reply; IFS= read -r evidence; } <<<"$fields"
}

# want WHAT VALUE ERE: VALUE (what mxw_ask found as WHAT) matches ERE.
want() { [[ $2 =~ $3 ]] || fail "$1 is '$2', want /$3/ (asked: $json)"; }
want_ok() {
    want result "$result" '^ok$'
    want action "$action" '^ignore$'
    want reply "$reply" '^DUNNO$'
}
want_tempfail() {
    want result "$result" '^tempfail$'
    want action "$action" '^defer$'
    want reply "$reply" '^451 4\.4\.3 '
}

# mxw_start_milter LOG ARGS...: mxwarden-milter with ARGS, its stderr in LOG; returns once it logs event=ready.
mxw_start_milter() {
    local log=${1:?usage: mxw_start_milter LOG ARGS...}
    shift
    "$MXW_BUILD/mxwarden-milter" "$@" 2>"$log" &
    MXW_MILTER_PID=$!
    mxw_track_pid "$MXW_MILTER_PID"
    mxw_wait_log 10 "$log" 'event=ready' "$MXW_MILTER_PID"
}
