#!/bin/bash
# mxwarden-milter and SIGHUP: the milter re-reads its configuration (the same -c FILE and overrides as at start)
# and keeps answering through miltertest.
#
#   miltertest --milter protocol--> mxwarden-milter --policy--> a closed port, then a stub policy server
#
# Each step rewrites the config file, sends SIGHUP, and checks that the milter is still there, that the changed
# setting decides the next MAIL FROM (on-error accept -> tempfail; the policy endpoint -> the stub's REJECT), that a
# changed listen socket is logged as needing a restart, and that a config that does not validate is logged and
# changes nothing. Needs miltertest and Debian's /usr/bin/python3. Everything listens on 127.0.0.1.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/daemon.sh
source "$here/lib/daemon.sh"
# shellcheck source=lib/dns.sh
source "$here/lib/dns.sh"

work=$(mktemp -d /tmp/mxw-milter-reload.XXXXXX)
failures=0
milter_pid=
stub_pid=
cleanup() {
    local rc=$? pid
    for pid in $milter_pid $stub_pid; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in $milter_pid $stub_pid; do
        wait "$pid" 2>/dev/null || true
    done
    if ((failures || rc)); then
        echo "logs kept in $work" >&2
        cat "$work/milter.log" >&2 || true
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

read -r dead_port stub_port m_port other_port < <(mxw_free_port 4)
start=$SECONDS

# A policy server that refuses every request.
"$MXW_PYTHON" - "$stub_port" >"$work/stub.log" 2>&1 <<'PY' &
import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
def serve(c):
    buf = b""
    while True:
        data = c.recv(4096)
        if not data:
            return
        buf += data
        while b"\n\n" in buf:
            _, buf = buf.split(b"\n\n", 1)
            c.sendall(b"action=550 5.7.1 stub says no\n\n")
print("event=ready", flush=True)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
stub_pid=$!
for ((i = 0; i < 50; i++)); do
    grep -q 'event=ready' "$work/stub.log" && break
    sleep 0.1
done

conf=$work/mxwarden.conf
# write_conf POLICY_PORT ON_ERROR [LISTEN_PORT]: the milter's config file.
write_conf() {
    printf '[log]\ntarget = stderr\n[milter]\nlisten = inet:127.0.0.1:%s\npolicy = inet:127.0.0.1:%s\non-error = %s\ntimeout = 2s\n[quarantine]\ndatabase = %s\n' \
        "${3:-$m_port}" "$1" "$2" "$work/quarantine.db" >"$conf.new"
    mv "$conf.new" "$conf"
}

# log_lines REGEX...: lines of the milter's log that match every REGEX.
log_lines() {
    local lines re
    lines=$(cat "$work/milter.log")
    for re in "$@"; do
        lines=$(grep -E -- "$re" <<<"$lines" || true)
    done
    printf '%s' "$lines"
}
want_log() {
    [[ -n $(log_lines "$@") ]] || fail "no line of the milter's log matches: $*"
}

# hup EVENT: send SIGHUP, wait until the milter logs one more EVENT line (reloaded or reload-failed).
hup() {
    local event=$1 before i
    before=$(grep -c -- "event=$event" "$work/milter.log" || true)
    kill -HUP "$milter_pid"
    for ((i = 0; i < 100; i++)); do
        (($(grep -c -- "event=$event" "$work/milter.log" || true) > before)) && break
        sleep 0.05
    done
    (($(grep -c -- "event=$event" "$work/milter.log" || true) > before)) || fail "no new event=$event after SIGHUP"
    kill -0 "$milter_pid" 2>/dev/null || fail "the milter died on SIGHUP"
}

# run_lua STEP WANT: reload.lua against the milter.
run_lua() {
    local out rc=0
    out=$(miltertest -D "DIR=$here/milter" -D "SOCK=inet:$m_port@127.0.0.1" -D "STEP=$1" -D "WANT=$2" \
        -s "$here/milter/reload.lua" 2>&1) || rc=$?
    printf '%s\n' "$out" | sed 's/^/  /'
    ((rc == 0)) || fail "reload.lua step $1 (want $2) exited with status $rc"
}

write_conf "$dead_port" accept
"$MXW_BUILD/mxwarden-milter" -c "$conf" --milter.timeout=3s 2>"$work/milter.log" &
milter_pid=$!
for ((i = 0; i < 100; i++)); do
    grep -qs 'event=ready' "$work/milter.log" && break
    kill -0 "$milter_pid" 2>/dev/null || break
    sleep 0.05
done
grep -qs 'event=ready' "$work/milter.log" || { fail "the milter did not start"; exit 1; }
# The override given at start (--milter.timeout=3s) wins over the file's 2s, now and after every reload.
want_log '^event=ready ' ' timeout_ms=3000 '

echo "milter $m_port, closed policy port $dead_port, stub policy server $stub_port"
run_lua START continue
want_log '^policy-error ' ' queue_id=QSTART ' ' on_error=accept ' ' verdict=continue'

# 1. on-error accept -> tempfail, and a new listen socket, which only a restart can open.
write_conf "$dead_port" tempfail "$other_port"
hup reloaded
want_log '^event=reloaded ' ' changed=milter\.on-error ' ' on_error=tempfail ' ' timeout_ms=3000 '
want_log '^warning: event=reload-needs-restart ' ' key=milter\.listen'
run_lua ONERROR reply
want_log '^policy-error ' ' queue_id=QONERROR ' ' on_error=tempfail ' ' verdict=tempfail'

# 2. A new policy endpoint: the next request goes to the stub, which refuses it.
write_conf "$stub_port" tempfail
hup reloaded
want_log '^event=reloaded ' ' changed=milter\.policy ' " policy=inet:127\.0\.0\.1:$stub_port "
run_lua POLICY reply
want_log '^decision ' ' queue_id=QPOLICY ' ' action="550 5\.7\.1 stub says no"' ' verdict=reject'

# 3. A config that does not validate: an error is logged, the running settings stay.
printf '[milter]\non-error = maybe\npolicy = inet:127.0.0.1:%s\n' "$dead_port" >"$conf"
hup reload-failed
want_log '^error: event=reload-failed ' "error=\"?milter\.on-error: 'maybe' is not accept or tempfail" ' kept='
run_lua BROKEN reply
want_log '^decision ' ' queue_id=QBROKEN ' ' action="550 5\.7\.1 stub says no"' ' verdict=reject'
# A file that cannot be parsed at all changes nothing either.
printf '[milter\n' >"$conf"
hup reload-failed
run_lua UNPARSED reply
want_log '^decision ' ' queue_id=QUNPARSED ' ' verdict=reject'

# 4. Deadlines in the wrong order are reloaded with a warning.
write_conf "$dead_port" accept
printf '[policy]\ndeadline = 9s\n' >>"$conf"
hup reloaded
want_log '^warning: event=config-warning ' 'policy\.deadline \(9s\) is not at least 1s below milter\.timeout \(3s\)'
run_lua WARNED continue

# SIGTERM still stops it cleanly.
kill -TERM "$milter_pid"
status=0
wait "$milter_pid" || status=$?
milter_pid=
((status == 0)) || fail "the milter exited with status $status after SIGTERM"
want_log '^event=stopped'

if ((failures)); then
    echo "milter reload test: $failures check(s) failed ($((SECONDS - start))s)" >&2
    exit 1
fi
echo "milter reload test: all checks passed ($((SECONDS - start))s)"
