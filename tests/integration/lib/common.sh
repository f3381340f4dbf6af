# shellcheck shell=bash
# What every integration and scenario script needs, once: a work directory, the EXIT trap that stops what the
# script started, failure counting, bounded waits and free ports. The other files in this directory source it.
#
#   mxw_begin NAME                 $work (/tmp/mxw-NAME.XXXXXX, mode 0755: Postfix daemons and smtp-sink reach it
#                                  after dropping root), the traps, $failures; the summary line uses NAME
#   fail MESSAGE                   count a failure and say so ("FAIL [$case_name]: ..." when case_name is set);
#                                  a script that wants more on a failure defines its own fail around mxw_fail
#   mxw_finish                     the summary line; exits 0, or 1 after any failure
#   mxw_track_pid PID              stop PID (SIGTERM, then SIGKILL) when the script exits
#   mxw_stop_pid PID [SECONDS]     stop it now (SIGKILL after SECONDS, default 5); returns its exit status (1 if it
#                                  had to be killed)
#   mxw_on_exit COMMAND            run COMMAND (one word) when the script exits, after the tracked processes stopped
#   mxw_poll SECONDS CMD...        run CMD every 0.1 s until it succeeds; 1, silently, if it never does
#   mxw_wait_file SECONDS FILE [PID [LOG]]
#   mxw_wait_listen SECONDS IP:PORT [PID [LOG]]
#   mxw_wait_log SECONDS LOG ERE [PID]
#                                  wait for a file, a TCP listener, a line in a log; on time-out (or when PID dies
#                                  first) say what was awaited, show LOG and return 1
#   mxw_free_port [COUNT]          COUNT distinct loopback ports free for TCP and UDP
#   mxw_qa_user                    the unprivileged user the MTA runs `quarantine ingest` as (pipe(8) refuses
#                                  root); created once. mxw_qa_state_dir DIR makes DIR its state directory.
#
# Scripts run under `set -euo pipefail`. The binaries come from $MXW_BUILD (default: the repository's build/).

[[ -z ${_mxw_common_sourced:-} ]] || return 0
_mxw_common_sourced=1

MXW_BUILD=${MXW_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/build}
MXW_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MXW_FIXTURES=$(cd "$MXW_LIB_DIR/../fixtures" && pwd)
# Debian's python has python3-dnslib; a python3 earlier on PATH (pyenv) may not.
MXW_PYTHON=${MXW_PYTHON:-/usr/bin/python3}
MXW_QA_USER=mxwtest-q

failures=0
case_name=
case_failures=0
_mxw_pids=()
_mxw_on_exit=()

mxw_begin() {
    mxw_name=${1:?usage: mxw_begin NAME}
    work=$(mktemp -d "/tmp/mxw-$mxw_name.XXXXXX")
    chmod 0755 "$work"
    mxw_started=$SECONDS
    trap _mxw_exit EXIT
    # Signals become an ordinary exit, so the EXIT trap runs.
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# The EXIT trap: the tracked processes, newest first, then the registered commands (the libraries' cleanups, the
# script's own) in reverse order. The work directory is kept when anything failed.
_mxw_exit() {
    local rc=$? i
    for ((i = ${#_mxw_pids[@]} - 1; i >= 0; i--)); do mxw_stop_pid "${_mxw_pids[i]}" || true; done
    for ((i = ${#_mxw_on_exit[@]} - 1; i >= 0; i--)); do "${_mxw_on_exit[i]}" || true; done
    if ((failures || rc)); then echo "logs kept in $work" >&2; else rm -rf "$work"; fi
}

mxw_on_exit() { _mxw_on_exit+=("${1:?usage: mxw_on_exit COMMAND}"); }

mxw_fail() {
    echo "FAIL${case_name:+ [$case_name]}: $*" >&2
    failures=$((failures + 1))
    case_failures=$((case_failures + 1))
}
fail() { mxw_fail "$@"; }

mxw_finish() {
    local took=$((SECONDS - mxw_started))
    if ((failures)); then
        echo "$mxw_name: $failures check(s) failed (${took}s)" >&2
        exit 1
    fi
    echo "$mxw_name: all checks passed (${took}s)"
    exit 0
}

mxw_track_pid() { _mxw_pids+=("${1:?usage: mxw_track_pid PID}"); }

mxw_stop_pid() {
    local pid=${1:?usage: mxw_stop_pid PID [SECONDS]} seconds=${2:-5} i status=0 kept=()
    for i in "${_mxw_pids[@]}"; do [[ $i == "$pid" ]] || kept+=("$i"); done
    _mxw_pids=("${kept[@]}")
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < seconds * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "mxw: process $pid ignored SIGTERM for $seconds s, killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        return 1
    fi
    wait "$pid" 2>/dev/null || status=$?
    return "$status"
}

mxw_poll() {
    local limit=$(($1 * 10)) i
    shift
    for ((i = 0; i < limit; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    "$@"
}

# _mxw_await SECONDS WHAT PID LOG CMD...: mxw_poll with a reason. PID (or "") is a process that must stay alive
# meanwhile, LOG (or "") what to show when the wait fails.
_mxw_await() {
    local seconds=$1 what=$2 pid=$3 log=$4
    shift 4
    local deadline=$((SECONDS + seconds))
    until "$@"; do
        if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
            echo "mxw: process $pid exited while waiting for $what" >&2
            break
        fi
        if ((SECONDS >= deadline)); then
            echo "mxw: no $what after ${seconds}s" >&2
            break
        fi
        sleep 0.1
    done
    "$@" && return 0
    if [[ -n $log ]]; then
        echo "--- $log ---" >&2
        tail -n 40 "$log" >&2 2>/dev/null || true
    fi
    return 1
}

mxw_wait_file() { _mxw_await "$1" "file $2" "${3:-}" "${4:-}" test -e "$2"; }

# Read from the kernel's socket table rather than by connecting, so that no stray session is caused (a connection
# to an SMTP server is a session in its log, one to smtpd a reverse lookup at the test nameserver).
_mxw_listening() {
    local ip=${1%:*} port=${1##*:} a b c d want
    IFS=. read -r a b c d <<<"$ip"
    printf -v want '%02X%02X%02X%02X:%04X 00000000:0000 0A' "$d" "$c" "$b" "$a" "$port"
    grep -q " $want " /proc/net/tcp
}
mxw_wait_listen() { _mxw_await "$1" "listener on $2" "${3:-}" "${4:-}" _mxw_listening "$2"; }

mxw_wait_log() { _mxw_await "$1" "line /$3/ in $2" "${4:-}" "$2" grep -Eqs -- "$3" "$2"; }

# The ports come from below the kernel's ephemeral range (ip_local_port_range), where no client socket is ever
# given a port: a free ephemeral port may be taken by any outgoing connection or DNS query (of Postfix, say) in the
# moment between this check and the test's own bind. All sockets stay bound until every port is found, so the ports
# differ from each other; 20000 and up keeps clear of mxwardend's default ports (10040-10044).
mxw_free_port() {
    "$MXW_PYTHON" - "${1:-1}" <<'EOF'
import random, socket, sys
with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
    ephemeral_low = int(f.read().split()[0])
candidates = list(range(20000, ephemeral_low))
random.shuffle(candidates)
held, ports = [], []
for port in candidates:
    if len(ports) == int(sys.argv[1]):
        break
    try:
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            s = socket.socket(socket.AF_INET, kind)
            held.append(s)
            s.bind(("127.0.0.1", port))
    except OSError:
        continue
    ports.append(port)
if len(ports) < int(sys.argv[1]):
    sys.exit("mxw_free_port: not enough free ports below %d" % ephemeral_low)
print(*ports)
EOF
}

mxw_qa_user() {
    id "$MXW_QA_USER" >/dev/null 2>&1 ||
        useradd --system --no-create-home --shell /usr/sbin/nologin "$MXW_QA_USER" 2>/dev/null ||
        id "$MXW_QA_USER" >/dev/null  # another test created it meanwhile
}

# mxw_qa_state_dir DIR: DIR as the daemon's state directory that the ingest user writes the quarantine into.
mxw_qa_state_dir() {
    mxw_qa_user
    mkdir -p "$1" && chown "$MXW_QA_USER:" "$1" && chmod 0750 "$1"
}
