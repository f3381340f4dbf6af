#!/bin/bash
# mxwarden-web's HTTP server, the real binary on a free loopback port, from outside: the security headers on
# every answer (pages, redirects and refusals alike), keep-alive, HEAD; and what a hostile or broken client gets:
# malformed request line 400 (and the server goes on), 9 KiB of headers 431, a 100 KiB body 413, a 3 KiB target
# 414, path tricks 400, TRACE/PUT 405, connections past the cap 503, a client sending a byte a second cut off
# with 408 at the head deadline while others are served; SIGTERM drains (the request in flight answered, an idle
# connection closed, no new ones) and ends it with status 0. Each request logs one line. About 17 s: the slow
# client waits out the 10 s head deadline.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/common.sh
source "$here/lib/common.sh"
mxw_begin web_http_test

read -r port < <(mxw_free_port 1)
base="http://127.0.0.1:$port"
cat >"$work/mxwarden.conf" <<EOF
[daemon]
state-dir = $work/state
drain-timeout = 3s
[listen]
web = inet:127.0.0.1:$port
EOF
"$MXW_BUILD/mxwarden-web" -c "$work/mxwarden.conf" --check-config >/dev/null || fail "--check-config refused the config"
"$MXW_BUILD/mxwarden-web" -c "$work/mxwarden.conf" --listen.web=bogus --check-config 2>/dev/null &&
    fail "--check-config took listen.web = bogus"
"$MXW_BUILD/mxwarden-web" -c "$work/mxwarden.conf" 2>"$work/web.log" &
web_pid=$!
mxw_track_pid "$web_pid"
mxw_wait_listen 10 "127.0.0.1:$port" "$web_pid" "$work/web.log"

# 1. Headers on a page, a 404 and a refusal; HEAD; keep-alive.
security_headers=(
    "Content-Security-Policy: default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    "X-Content-Type-Options: nosniff" "X-Frame-Options: DENY" "Referrer-Policy: same-origin" "Cache-Control: no-store"
    "Cross-Origin-Opener-Policy: same-origin" "Cross-Origin-Resource-Policy: same-origin" "Server: mxwarden-web")
check_headers() {  # check_headers WHAT FILE: FILE holds a response head
    local h
    for h in "${security_headers[@]}"; do
        grep -qiF -- "$h" <(tr -d '\r' <"$2") || fail "$1: no '$h'"
    done
    grep -qi '^Permissions-Policy: .*camera=()' "$2" || fail "$1: no Permissions-Policy denying the camera"
}
curl -sS -D "$work/get.head" -o "$work/get.body" "$base/login" || fail "GET /login failed"
grep -q '^HTTP/1.1 200' "$work/get.head" || fail "GET /login: $(head -1 "$work/get.head")"
grep -q '<form id="login"' "$work/get.body" || fail "GET /login: not the login page"
check_headers "GET /login" "$work/get.head"
# Without a session every page but the login sends the browser there.
curl -sS -D "$work/303.head" -o /dev/null "$base/nothing-here" || fail "GET /nothing-here failed"
grep -q '^HTTP/1.1 303' "$work/303.head" || fail "GET /nothing-here: $(head -1 "$work/303.head")"
check_headers "303" "$work/303.head"
curl -sS -D "$work/400.head" -o /dev/null --path-as-is "$base/a/../b" || fail "GET /a/../b failed"
grep -q '^HTTP/1.1 400' "$work/400.head" || fail "GET /a/../b: $(head -1 "$work/400.head")"
check_headers "400" "$work/400.head"
curl -sS -I -o "$work/head.head" "$base/login" || fail "HEAD /login failed"
get_length=$(stat -c %s "$work/get.body")
grep -qi "^Content-Length: $get_length" "$work/head.head" || fail "HEAD /login: not the length of GET ($get_length)"
curl -sS -v -o /dev/null -o /dev/null "$base/login" "$base/login" 2>"$work/keepalive.txt" || fail "two GETs failed"
grep -q 'Re-using existing connection' "$work/keepalive.txt" || fail "the second GET did not reuse the connection"
# A form reaches the page: a wrong login is answered by the login page itself.
code=$(curl -sS -o /dev/null -w '%{http_code}' -d 'user=nobody&password=x' "$base/login") || fail "POST /login failed"
[[ $code == 403 ]] || fail "POST /login with a wrong password: want 403, got $code"

# 2. Raw sockets: what browsers never send.
"$MXW_PYTHON" - "$port" <<'EOF' || fail "raw HTTP checks failed"
import re, socket, sys, threading, time

port = int(sys.argv[1])
bad = []

def exchange(data, timeout=5.0, until_close=False):
    """Sends data, returns the first whole response (or, until_close, all until the server closes)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
    except OSError:
        pass  # the server may answer and close before taking it all
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
            head, sep, body = out.partition(b"\r\n\r\n")
            if sep and not until_close:
                length = [l.split(b":", 1)[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                if length and len(body) >= int(length[0]):
                    break
    except OSError:
        pass
    s.close()
    return out

def status(resp):
    line = resp.split(b"\r\n", 1)[0]
    parts = line.split(b" ")
    return int(parts[1]) if len(parts) > 1 and parts[0] == b"HTTP/1.1" else None

def want(label, data, code):
    resp = exchange(data)
    got = status(resp)
    if got != code:
        bad.append("%s: want %d, got %r" % (label, code, resp[:80]))
    elif b"Content-Security-Policy: default-src 'none'" not in resp:
        bad.append("%s: no Content-Security-Policy on the %d" % (label, code))

def get(path=b"/login"):
    return b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

want("malformed request line", b"GARBAGE\r\n\r\n", 400)
want("the next connection after it", get(), 200)
want("bad header line", b"GET / HTTP/1.1\r\nHost x\r\n\r\n", 400)
want("bad version", b"GET / HTTP/9.9\r\nHost: x\r\n\r\n", 400)
want("9 KiB of headers", b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9216 + b"\r\n\r\n", 431)
want("100 KiB body", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
     b"Content-Length: 102400\r\n\r\n" + b"a" * 102400, 413)
want("100 KiB chunked body", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
     b"".join(b"2000\r\n" + b"a" * 8192 + b"\r\n" for _ in range(13)) + b"0\r\n\r\n", 413)
want("3 KiB target", get(b"/" + b"a" * 3072), 414)
for trick in [b"/%2e%2e/etc/passwd", b"/..%2fx", b"//x", b"/a%00b", b"/a%5cb", b"/a\\b", b"/%zz",
              b"http://127.0.0.1/", b"*"]:
    want("path " + trick.decode(), get(trick), 400)
want("TRACE", b"TRACE / HTTP/1.1\r\nHost: x\r\n\r\n", 405)
want("PUT", b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx", 405)
want("a good request after all that", get(), 200)

# Pipelining: two requests in one write, two answers in order.
resp = exchange(b"GET /login HTTP/1.1\r\nHost: x\r\n\r\nGET /missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                until_close=True)
if re.findall(rb"HTTP/1\.1 (\d{3}) ", resp) != [b"200", b"303"]:
    bad.append("pipelined GETs: %r" % resp[:120])

# The connection cap (64): 64 connections in the middle of a request line, then one more is told 503.
held = []
for _ in range(64):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET / HT")
    held.append(s)
time.sleep(0.5)
want("connection 65", get(), 503)
for s in held:
    s.close()
deadline = time.time() + 5
while status(exchange(get())) != 200 and time.time() < deadline:
    time.sleep(0.1)
want("a connection once the 64 closed", get(), 200)

# Slowloris: one header byte a second. The head deadline (10 s) ends it with 408; meanwhile others are served.
result = {}
def slow():
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    started = time.time()
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    s.settimeout(1.0)
    out = b""
    for _ in range(20):
        try:
            s.sendall(b"X")
        except OSError:
            break
        try:
            chunk = s.recv(4096)
            if not chunk:
                break
            out += chunk
        except socket.timeout:
            continue
        except OSError:
            break
    result["took"] = time.time() - started
    result["resp"] = out
    s.close()
t = threading.Thread(target=slow)
t.start()
time.sleep(2)
started = time.time()
want("a client beside the slow one", get(), 200)
if time.time() - started > 1:
    bad.append("the client beside the slow one waited %.1f s" % (time.time() - started))
t.join()
if status(result.get("resp", b"")) != 408 or not 9 <= result["took"] <= 13:
    bad.append("slow client: want 408 after about 10 s, got %r after %.1f s" %
               (result.get("resp", b"")[:40], result.get("took", -1)))

for b in bad:
    print("FAIL: " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF

# 3. One log line per request; the server is still there.
grep -qE 'event=request method=GET path=/login status=200 bytes=[0-9]+ ms=[0-9]+ peer=127\.0\.0\.1' "$work/web.log" ||
    fail "no request line for GET /login in the log"
grep -qE 'event=request method=GET path=/%2e%2e/etc/passwd status=400' "$work/web.log" ||
    fail "no request line for the refused path"
grep -q 'event=connection-refused listener=web reason=max-connections' "$work/web.log" ||
    fail "the refused connection was not logged"
kill -0 "$web_pid" 2>/dev/null || fail "mxwarden-web died"

# 4. SIGTERM drains: a request half sent when it comes is still answered (with Connection: close), an idle
# kept-alive connection is closed at once, new connections are refused; then a clean exit.
"$MXW_PYTHON" - "$port" "$web_pid" <<'EOF' || fail "the drain checks failed"
import os, signal, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
bad = []
idle = socket.create_connection(("127.0.0.1", port), timeout=5)
idle.sendall(b"GET /login HTTP/1.1\r\nHost: x\r\n\r\n")
first = idle.recv(65536)
busy = socket.create_connection(("127.0.0.1", port), timeout=5)
busy.sendall(b"GET /login HTTP/1.1\r\nHost: x\r\n")
time.sleep(0.3)
os.kill(pid, signal.SIGTERM)
time.sleep(0.5)
if idle.recv(65536) != b"":
    bad.append("the idle kept-alive connection was not closed")
try:
    socket.create_connection(("127.0.0.1", port), timeout=2).close()
    bad.append("a new connection was accepted while draining")
except OSError:
    pass
busy.sendall(b"\r\n")
resp = b""
while True:
    chunk = busy.recv(65536)
    if not chunk:
        break
    resp += chunk
if not first.startswith(b"HTTP/1.1 200") or not resp.startswith(b"HTTP/1.1 200") or b"Connection: close" not in resp:
    bad.append("the request in flight: %r" % resp[:80])
for b in bad:
    print("FAIL: " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
rc=0
wait "$web_pid" || rc=$?
[[ $rc == 0 ]] || fail "SIGTERM: exit status $rc"
grep -q 'event=stop signal=15' "$work/web.log" || fail "no stop line in the log"
mxw_finish
