# shellcheck shell=bash
# The mxwarden daemon and CLI as the integration tests run them. Source this file, then:
#
#   trap mxw_daemon_cleanup EXIT
#   mxw_start_daemon STATE_DIR LOGFILE --dns.forwarders=127.0.0.1@PORT [--section.key=value ...]
#                              sets MXW_DAEMON_PID, MXW_DAEMON_STATE_DIR
#   mxw_cli check sender a@good.mxw.test --json       the CLI, aimed at MXW_DAEMON_STATE_DIR
#   mxw_stop_daemon [PID]                              default: MXW_DAEMON_PID
#
# Call mxw_start_daemon directly, never inside $(...), for the same reason as the lib/dns.sh start functions: the
# PID it records would be lost in a subshell. The binaries come from $MXW_BUILD (default: the repository's build/).

MXW_BUILD=${MXW_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/build}
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
    local deadline=$((SECONDS + 10))
    until tail -c +"$skip" "$log" | grep 'event=ready' >/dev/null; do
        if ! kill -0 "$MXW_DAEMON_PID" 2>/dev/null || ((SECONDS >= deadline)); then
            echo "mxw-daemon: mxwardend (pid $MXW_DAEMON_PID) did not become ready; its log ($log):" >&2
            tail -c +"$skip" "$log" >&2
            return 1
        fi
        sleep 0.05
    done
}

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
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "mxw-daemon: mxwardend (pid $pid) ignored SIGTERM for 5 s, killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        return 1
    fi
    wait "$pid" 2>/dev/null || status=$?
    if ((status != 0)); then
        echo "mxw-daemon: mxwardend (pid $pid) exited with status $status" >&2
        return 1
    fi
}

# mxw_daemon_cleanup: stop every daemon still running. For EXIT traps; never fails.
mxw_daemon_cleanup() {
    local pid
    for pid in "${MXW_DAEMON_PIDS[@]}"; do
        mxw_stop_daemon "$pid" || true
    done
}

# mxw_cli ARGS...: the mxwarden CLI, finding the daemon through MXW_DAEMON_STATE_DIR (the control socket is
# STATE_DIR/control.sock). Set MXW_DAEMON_STATE_DIR for one call to ask another daemon.
mxw_cli() {
    "$MXW_BUILD/mxwarden" --daemon.state-dir="${MXW_DAEMON_STATE_DIR:?no daemon started}" "$@"
}
