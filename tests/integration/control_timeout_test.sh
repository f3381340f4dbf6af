#!/bin/bash
# Control-socket timeouts, both ends. (1) The CLI against a fake control socket that accepts and never answers:
# `mxwarden status` gives up after its 5 s answer wait with "mxwardend did not answer on unix:... within 5s" and exit
# status 75 (EX_TEMPFAIL), instead of hanging. (2) A real mxwardend closes a control connection that sends half a
# request line within its 5 s request timeout, logs it, and still answers the next CLI call. Free ports only.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/dns.sh
source "$here/lib/dns.sh"
# shellcheck source=lib/daemon.sh
source "$here/lib/daemon.sh"

mxw_begin control_timeout_test
fake_pid=

# (1) A control socket that accepts every connection and never says a word.
"$MXW_PYTHON" - "$work/fake.sock" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(8)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
PY
fake_pid=$!
mxw_track_pid "$fake_pid"
for _ in $(seq 50); do [[ -S $work/fake.sock ]] && break; sleep 0.1; done
start=$SECONDS
rc=0
timeout 60 "$MXW_BUILD/mxwarden" --listen.control="unix:$work/fake.sock" status >"$work/cli.out" 2>"$work/cli.err" || rc=$?
took=$((SECONDS - start))
[[ $rc == 75 ]] || fail "CLI against a silent daemon: want exit 75, got $rc ($(cat "$work/cli.err"))"
grep -qF "mxwarden: mxwardend did not answer on unix:$work/fake.sock within 5s" "$work/cli.err" ||
    fail "CLI against a silent daemon: no clear message: $(cat "$work/cli.err")"
((took >= 4 && took <= 15)) || fail "CLI against a silent daemon gave up after ${took}s, want about 5s"
kill "$fake_pid" 2>/dev/null || true
fake_pid=

# (2) The daemon's side: half a line, then silence.
read -r dns_port policy_port < <(mxw_free_port 2)
mxw_start_daemon "$work/state" "$work/mxwardend.log" --dns.forwarders="127.0.0.1@$dns_port" \
    --listen.policy="inet:127.0.0.1:$policy_port"
verdict=$("$MXW_PYTHON" - "$work/state/control.sock" <<'PY'
import socket, sys, time
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.connect(sys.argv[1])
c.sendall(b"stat")
c.settimeout(30)
start = time.monotonic()
try:
    data = c.recv(100)
    print("closed" if data == b"" else "answered %r" % data, round(time.monotonic() - start))
except socket.timeout:
    print("open", 30)
PY
)
read -r what secs <<<"$verdict"
[[ $what == closed ]] || fail "half a control request: want the daemon to close, got: $verdict"
((secs >= 4 && secs <= 10)) || fail "half a control request was closed after ${secs}s, want about 5s"
# Log lines are flushed on the next loop turn: give the line a moment.
for _ in $(seq 20); do grep -q 'event=control-timeout stage=request' "$work/mxwardend.log" && break; sleep 0.1; done
grep -q 'event=control-timeout stage=request' "$work/mxwardend.log" || fail "no event=control-timeout in the daemon log"
mxw_cli status >"$work/status.out" 2>&1 || fail "the daemon did not answer status afterwards: $(cat "$work/status.out")"

mxw_finish
