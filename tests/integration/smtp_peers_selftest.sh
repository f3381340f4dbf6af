#!/bin/bash
# Self test of fixtures/smtp_peers.py, the fake SMTP servers behind the banner-probe tests: starts one instance with
# every mode on free high ports of 127.0.0.0/8 and checks each mode with a small client (silent sends nothing,
# greet421/greet554 send their line and EOF, reset gives ECONNRESET, drip completes its 220 only after the expected
# time, ok and garbage greet as documented; the delivery-log modes hang-ehlo, reset-starttls, mail421, drop-data,
# rcpt550 and starttls:PEM break, or complete TLS, at their command), then the per-connection log, the counts written on SIGTERM and the
# refusal of bad listener specs. Run it after changing fixtures/smtp_peers.py. Takes a few seconds.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/smtp.sh
source "$here/lib/smtp.sh"
# shellcheck source=lib/tls.sh
source "$here/lib/tls.sh"
peers=$MXW_FIXTURES/smtp_peers.py
mxw_begin smtp_peers_selftest

read -r p_silent p_421 p_554 p_reset p_drip p_ok p_garbage p_other < <(mxw_free_port 8)
read -r p_hang p_rtls p_m421 p_drop p_r550 p_tls < <(mxw_free_port 6)
mxw_tls_ca "$work/tls"
pem=$(mxw_tls_leaf "$work/tls" peer.mxw.test)
drip_ms=25
mxw_start_smtp_peers "$work/peers.log" \
    "127.0.0.1:$p_silent=silent" "127.0.0.1:$p_421=greet421" "127.0.0.1:$p_554=greet554" \
    "127.0.0.1:$p_reset=reset" "127.0.0.1:$p_drip=drip:$drip_ms" "127.0.0.1:$p_ok=ok" \
    "127.0.0.1:$p_garbage=garbage" "127.0.0.4:$p_other=ok" \
    "127.0.0.1:$p_hang=hang-ehlo" "127.0.0.1:$p_rtls=reset-starttls" "127.0.0.1:$p_m421=mail421" \
    "127.0.0.1:$p_drop=drop-data" "127.0.0.1:$p_r550=rcpt550" "127.0.0.1:$p_tls=starttls:$pem"

# One client per mode, all in one python run; it prints "FAIL: ..." lines and exits 1 on any failure.
"$MXW_PYTHON" - "$p_silent" "$p_421" "$p_554" "$p_reset" "$p_drip" "$p_ok" "$p_garbage" "$p_other" "$drip_ms" \
    "$p_hang" "$p_rtls" "$p_m421" "$p_drop" "$p_r550" "$p_tls" "$peers" "$work/tls/ca.crt" <<'EOF' ||
import importlib.util, socket, ssl, sys, time

(p_silent, p_421, p_554, p_reset, p_drip, p_ok, p_garbage, p_other, drip_ms,
 p_hang, p_rtls, p_m421, p_drop, p_r550, p_tls) = map(int, sys.argv[1:16])
ca_file = sys.argv[17]
spec = importlib.util.spec_from_file_location("smtp_peers", sys.argv[16])
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

def greet_ehlo(port, name):
    s = connect(port)
    check(read_reply(s).startswith(b"220 "), f"{name}: greeting is 220")
    return s, command(s, b"EHLO probe.mxw.test")

# hang-ehlo: greets, then no answer to EHLO.
with connect(p_hang, timeout=1.0) as s:
    check(read_reply(s).startswith(b"220 "), "hang-ehlo: greeting is 220")
    s.sendall(b"EHLO probe.mxw.test\r\n")
    try:
        got = s.recv(1)
        check(False, f"hang-ehlo: want no answer to EHLO within 1 s, got {got!r}")
    except socket.timeout:
        pass

# reset-starttls: STARTTLS offered, accepted with 220, then EOF instead of a handshake.
s, ehlo = greet_ehlo(p_rtls, "reset-starttls")
with s:
    check(b"250 STARTTLS\r\n" in ehlo, f"reset-starttls: EHLO offers STARTTLS: {ehlo!r}")
    check(command(s, b"STARTTLS").startswith(b"220 "), "reset-starttls: STARTTLS gets 220")
    check(read_to_eof(s) == b"", "reset-starttls: EOF after the 220")

# mail421: 421 to MAIL, then EOF.
s, ehlo = greet_ehlo(p_m421, "mail421")
with s:
    check(command(s, b"MAIL FROM:<a@mxw.test>") == b"421 4.3.2 closing\r\n", "mail421: MAIL gets 421")
    check(read_to_eof(s) == b"", "mail421: EOF after the 421")

# drop-data: 354 to DATA, then EOF after the message instead of a reply.
s, ehlo = greet_ehlo(p_drop, "drop-data")
with s:
    command(s, b"MAIL FROM:<a@mxw.test>")
    command(s, b"RCPT TO:<b@mxw.test>")
    check(command(s, b"DATA").startswith(b"354 "), "drop-data: DATA gets 354")
    check(command(s, b"Subject: t\r\n\r\nbody\r\n.") == b"", "drop-data: EOF instead of a reply to the message")

# rcpt550: 550 to RCPT, the session goes on.
s, ehlo = greet_ehlo(p_r550, "rcpt550")
with s:
    check(command(s, b"MAIL FROM:<a@mxw.test>").startswith(b"250 "), "rcpt550: MAIL gets 250")
    check(command(s, b"RCPT TO:<b@mxw.test>").startswith(b"550 5.1.1 "), "rcpt550: RCPT gets 550")
    check(command(s, b"QUIT").startswith(b"221 "), "rcpt550: QUIT gets 221")

# starttls: a verified handshake with the test CA's certificate, then a whole message inside TLS.
s, ehlo = greet_ehlo(p_tls, "starttls")
with s:
    check(b"250 STARTTLS\r\n" in ehlo, f"starttls: EHLO offers STARTTLS: {ehlo!r}")
    check(command(s, b"STARTTLS").startswith(b"220 "), "starttls: STARTTLS gets 220")
    ctx = ssl.create_default_context(cafile=ca_file)
    with ctx.wrap_socket(s, server_hostname="peer.mxw.test") as t:
        ehlo = command(t, b"EHLO probe.mxw.test")
        check(ehlo.startswith(b"250 ") and b"STARTTLS" not in ehlo, f"starttls: EHLO in TLS: {ehlo!r}")
        command(t, b"MAIL FROM:<a@mxw.test>")
        command(t, b"RCPT TO:<b@mxw.test>")
        check(command(t, b"DATA").startswith(b"354 "), "starttls: DATA gets 354 in TLS")
        check(command(t, b"Subject: t\r\n\r\nbody\r\n.").startswith(b"250 "), "starttls: the message gets 250")
        check(command(t, b"QUIT").startswith(b"221 "), "starttls: QUIT gets 221")

sys.exit(1 if failed else 0)
EOF
    failures=$((failures + 1))

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
    "$p_ok ok" "$p_garbage garbage" "$p_hang hang-ehlo" "$p_rtls reset-starttls" "$p_m421 mail421" \
    "$p_drop drop-data" "$p_r550 rcpt550" "$p_tls starttls:$pem"; do
    expect_log "^127\.0\.0\.1:$want connections=1$"
done
expect_log "^127\.0\.0\.4:$p_other ok connections=1$"
accepted=$(grep -c ' accepted from ' "$log" || true)
((accepted == 14)) || fail "want 14 'accepted' lines, got $accepted"
expect_log "^127\.0\.0\.1:$p_drop drop-data dropped message from 127\.0\.0\.1:[0-9]+ bytes=[0-9]+$"
expect_log "^127\.0\.0\.1:$p_tls starttls:.* message from 127\.0\.0\.1:[0-9]+ bytes=[0-9]+$"

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
refused "127.0.0.1:$p_ok=starttls"
refused "127.0.0.1:$p_ok=starttls:$work/no-such.pem"
refused "127.0.0.1:$p_ok=mail421:1"

((failures == 0)) || { echo "--- $log ---" >&2; cat "$log" >&2; }
mxw_finish
