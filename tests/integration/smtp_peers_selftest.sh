#!/bin/bash
# Self test of fixtures/smtp_peers.py, the fake SMTP servers behind the banner-probe tests: starts one instance with
# every mode on free high ports of 127.0.0.0/8 and checks each mode with a small client (silent sends nothing,
# greet421/greet554 send their line and EOF, reset gives ECONNRESET, drip completes its 220 only after the expected
# time, ok and garbage greet as documented), then the per-connection log, the counts written on SIGTERM and the
# refusal of bad listener specs. Run it after changing fixtures/smtp_peers.py. Takes about 3 s.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/smtp.sh
source "$here/lib/smtp.sh"
peers=$MXW_FIXTURES/smtp_peers.py
mxw_begin smtp_peers_selftest

read -r p_silent p_421 p_554 p_reset p_drip p_ok p_garbage p_other < <(mxw_free_port 8)
drip_ms=25
mxw_start_smtp_peers "$work/peers.log" \
    "127.0.0.1:$p_silent=silent" "127.0.0.1:$p_421=greet421" "127.0.0.1:$p_554=greet554" \
    "127.0.0.1:$p_reset=reset" "127.0.0.1:$p_drip=drip:$drip_ms" "127.0.0.1:$p_ok=ok" \
    "127.0.0.1:$p_garbage=garbage" "127.0.0.4:$p_other=ok"

# One client per mode, all in one python run; it prints "FAIL: ..." lines and exits 1 on any failure.
"$MXW_PYTHON" - "$p_silent" "$p_421" "$p_554" "$p_reset" "$p_drip" "$p_ok" "$p_garbage" "$p_other" "$drip_ms" \
    "$peers" <<'EOF' || failures=$((failures + 1))
import importlib.util, socket, sys, time

(p_silent, p_421, p_554, p_reset, p_drip, p_ok, p_garbage, p_other, drip_ms) = map(int, sys.argv[1:10])
spec = importlib.util.spec_from_file_location("smtp_peers", sys.argv[10])
peers = importlib.util.module_from_spec(spec)
spec.loader.exec_module(peers)
failed = []

def check(ok, what):
    if not ok:
        failed.append(what)
        print(f"FAIL: {what}", file=sys.stderr)

def connect(port, addr="127.0.0.1", timeout=2.0):
    return socket.create_connection((addr, port), timeout=timeout)

def read_to_eof(s):
    data = b""
    while chunk := s.recv(4096):
        data += chunk
    return data

def read_reply(s):
    """Bytes up to and including the last line of one reply ("NNN " or "NNN\r\n")."""
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            return data
        data += chunk
        last = data.split(b"\r\n")[-2:] if data.endswith(b"\r\n") else []
        if last and len(last[0]) >= 3 and last[0][3:4] in (b" ", b""):
            return data

def command(s, line):
    s.sendall(line + b"\r\n")
    return read_reply(s)

# silent: the connection is accepted and stays quiet.
with connect(p_silent, timeout=1.0) as s:
    try:
        got = s.recv(1)
        check(False, f"silent: want no bytes within 1 s, got {got!r}")
    except socket.timeout:
        pass

# greet421 / greet554: one line, then EOF.
with connect(p_421) as s:
    got = read_to_eof(s)
    check(got == b"421 4.3.2 try later\r\n", f"greet421: got {got!r}")
with connect(p_554) as s:
    got = read_to_eof(s)
    check(got.startswith(b"554 ") and got.endswith(b"\r\n") and got.count(b"\n") == 1, f"greet554: got {got!r}")

# reset: the first read fails with ECONNRESET.
with connect(p_reset) as s:
    try:
        got = s.recv(1)
        check(False, f"reset: want ECONNRESET, got {got!r}")
    except ConnectionResetError:
        pass
    except socket.timeout:
        check(False, "reset: want ECONNRESET, got nothing within 2 s")

# drip: a complete, valid 220 greeting, but only after one interval per byte.
want = len(peers.DRIP_GREETING) * drip_ms / 1000
with connect(p_drip, timeout=want + 2) as s:
    t0 = time.monotonic()
    got = read_reply(s)
    took = time.monotonic() - t0
    check(got == peers.DRIP_GREETING, f"drip: got {got!r}")
    check(got.startswith(b"220-") and b"\r\n220 " in got, f"drip: want a multi-line 220, got {got!r}")
    check(want * 0.9 <= took <= want + 1.5, f"drip: greeting took {took:.2f} s, want about {want:.2f} s")
    check(command(s, b"QUIT").startswith(b"221 "), "drip: QUIT after the greeting gets 221")

# ok: 220, 250 to EHLO, a whole mail transaction, 221 to QUIT and then EOF.
for port, addr in ((p_ok, "127.0.0.1"), (p_other, "127.0.0.4")):
    with connect(port, addr) as s:
        got = read_reply(s)
        check(got == f"220 {addr} ESMTP smtp_peers\r\n".encode(), f"ok {addr}: greeting {got!r}")
        check(command(s, b"EHLO probe.mxw.test").startswith(b"250 "), f"ok {addr}: EHLO gets 250")
        check(command(s, b"MAIL FROM:<a@mxw.test>").startswith(b"250 "), f"ok {addr}: MAIL gets 250")
        check(command(s, b"RCPT TO:<b@mxw.test>").startswith(b"250 "), f"ok {addr}: RCPT gets 250")
        check(command(s, b"DATA").startswith(b"354 "), f"ok {addr}: DATA gets 354")
        check(command(s, b"Subject: t\r\n\r\nbody\r\n.").startswith(b"250 "), f"ok {addr}: the message gets 250")
        check(command(s, b"QUIT") == b"221 2.0.0 Bye\r\n", f"ok {addr}: QUIT gets 221")
        check(read_to_eof(s) == b"", f"ok {addr}: EOF after 221")

# garbage: a line without a reply code, then nothing.
with connect(p_garbage, timeout=1.0) as s:
    got = s.recv(4096)
    check(got == b"hello there\r\n", f"garbage: got {got!r}")
    try:
        more = s.recv(1)
        check(False, f"garbage: want silence after the line, got {more!r}")
    except socket.timeout:
        pass

sys.exit(1 if failed else 0)
EOF

# The log has one line per connection, then, on SIGTERM, the count per listener.
rc=0
mxw_stop_pid "$MXW_SMTP_PEERS_PID" || rc=$?
((rc == 0)) || fail "smtp_peers exited $rc on SIGTERM"
log=$work/peers.log
expect_log() { grep -Eq "$1" "$log" || fail "log has no line matching '$1'"; }
expect_log "^smtp_peers ready 127\.0\.0\.1:$p_silent=silent .*127\.0\.0\.1:$p_drip=drip:$drip_ms "
expect_log "^127\.0\.0\.1:$p_silent silent accepted from 127\.0\.0\.1:[0-9]+ \(n=1\)$"
expect_log "^127\.0\.0\.4:$p_other ok accepted from 127\.0\.0\.1:[0-9]+ \(n=1\)$"
expect_log "^127\.0\.0\.1:$p_ok ok message from 127\.0\.0\.1:[0-9]+ bytes=[0-9]+$"
expect_log "^smtp_peers stop signal=SIGTERM$"
for want in "$p_silent silent" "$p_421 greet421" "$p_554 greet554" "$p_reset reset" "$p_drip drip:$drip_ms" \
    "$p_ok ok" "$p_garbage garbage"; do
    expect_log "^127\.0\.0\.1:$want connections=1$"
done
expect_log "^127\.0\.0\.4:$p_other ok connections=1$"
accepted=$(grep -c ' accepted from ' "$log" || true)
((accepted == 8)) || fail "want 8 'accepted' lines, got $accepted"

# Bad listener specs are refused before anything is bound.
refused() {
    local out rc=0
    out=$("$MXW_PYTHON" "$peers" "$@" 2>&1) || rc=$?
    ((rc == 2)) || fail "smtp_peers $*: want exit 2, got $rc"
    grep -qF "$1" <<<"$out" || fail "smtp_peers $*: the error does not name the spec: $out"
}
refused "10.0.0.1:$p_ok=ok"
refused "0.0.0.0:$p_ok=ok"
refused "[::1]:$p_ok=ok"
refused "127.0.0.1:$p_ok=bounce"
refused "127.0.0.1:$p_ok=drip"
refused "127.0.0.1:$p_ok=ok:1"
refused "127.0.0.1:0=ok"

((failures == 0)) || { echo "--- $log ---" >&2; cat "$log" >&2; }
mxw_finish
