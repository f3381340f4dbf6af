#!/bin/bash
# Restarts lose no lookup, and a stop answers what is in flight:
#   1. systemd-socket-activate holds the policy and socketmap sockets and starts mxwardend on the first connection,
#      with LISTEN_FDNAMES=policy:socketmap: the daemon takes both sockets (it binds nothing itself) and the
#      connection that woke it is answered.
#   2. fixtures/socket_holder.py holds the sockets as systemd does across restarts and restarts mxwardend three
#      times while 64 policy and 64 socketmap connections (fixtures/mta_load.py, retrying a broken connection once
#      as Postfix does) and a real Postfix routing through the socketmap keep going: no request fails, every message
#      is delivered and Postfix defers none. Each start sends READY=1 (only once it serves), STATUS= and watchdog
#      pings from its event loop, and each stop exits 0.
#   3. SIGTERM with ten policy requests waiting on a silent DNS server: each gets its answer before the daemon
#      exits 0. Its stderr is set up as systemd's journal stream: every line carries its priority. A request that
#      never completes holds a stop only until daemon.drain-timeout.
# Free ports only; 127.0.0.7 (the smart host's address in the test zone) on a port of its own.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/postfix.sh
source "$here/lib/postfix.sh"
# shellcheck source=lib/daemon.sh
source "$here/lib/daemon.sh"
load=$MXW_FIXTURES/mta_load.py
holder=$MXW_FIXTURES/socket_holder.py

mxw_begin restart_test
pf=$work/pf
sink_dir=$work/sink

read -r ns_port fault_port policy_port smap_port smtpd_port sink_port sa_policy sa_smap < <(mxw_free_port 8)
mxw_start_nsd "$work/nsd" "$ns_port"
common=(--dns.forwarders="127.0.0.1@$ns_port" --dns.transparent-zones="test. 127.in-addr.arpa." --listen.metrics=
    --routing.deny-addresses=0.0.0.0/8)

# --- 1. systemd-socket-activate -------------------------------------------------------------------------------
systemd-socket-activate -l "127.0.0.1:$sa_policy" -l "127.0.0.1:$sa_smap" --fdname=policy:socketmap \
    "$MXW_BUILD/mxwardend" --daemon.state-dir="$work/sa-state" "${common[@]}" \
    --listen.policy="inet:127.0.0.1:$sa_policy" --listen.socketmap="inet:127.0.0.1:$sa_smap" \
    2>"$work/sa.log" &
sa_pid=$!
mxw_track_pid "$sa_pid"
mxw_wait_log 10 "$work/sa.log" "Listening on 127.0.0.1:$sa_smap" "$sa_pid" || fail "systemd-socket-activate did not listen"
out=$("$MXW_PYTHON" "$load" socketmap --port "$sa_smap" --connections 1 --seconds 0.5 --key 'transport u@aonly.mxw.test')
grep -q '"failed": 0' <<<"$out" && grep -q '"OK mxw:\[127.0.0.5\]:25"' <<<"$out" ||
    fail "the request that woke the daemon was not answered: $out"
grep -q 'event=listen-inherited listener=policy address=inet:127.0.0.1:'"$sa_policy" "$work/sa.log" &&
    grep -q 'event=listen-inherited listener=socketmap address=inet:127.0.0.1:'"$sa_smap" "$work/sa.log" ||
    fail "mxwardend did not take both sockets from systemd-socket-activate"
mxw_stop_pid "$sa_pid" || fail "the socket-activated daemon did not exit 0 on SIGTERM"

# --- 2. restarts under load, with a real Postfix -----------------------------------------------------------
mxw_start_sink "$sink_dir" "127.0.0.7:$sink_port"
events=$work/holder.events
"$MXW_PYTHON" "$holder" --listen "policy=127.0.0.1:$policy_port" --listen "socketmap=127.0.0.1:$smap_port" \
    --events "$events" --watchdog-usec 400000 -- \
    "$MXW_BUILD/mxwardend" --daemon.state-dir="$work/state" "${common[@]}" \
    --listen.policy="inet:127.0.0.1:$policy_port" --listen.socketmap="inet:127.0.0.1:$smap_port" \
    --routing.mode=smarthost --routing.smarthost="relay.mxw.test:$sink_port" --routing.exclude=localhost \
    --probe.banner-timeout=3s --routing.answer-budget=2s 2>>"$work/mxwardend.log" &
holder_pid=$!
mxw_track_pid "$holder_pid"
mxw_wait_log 10 "$events" 'notify pid=[0-9]+ READY=1' "$holder_pid" || fail "the first start sent no READY=1"

mxw_postfix_create "$pf" "$smtpd_port"
map="socketmap:inet:127.0.0.1:$smap_port:transport"
mxw_postfix_conf "$pf" "transport_maps = $map" "smtp_connect_timeout = 5s"
mxw_postfix_mxw "$pf" -o smtp_helo_timeout=10s -o smtp_connect_timeout=5s -o syslog_name=postfix/mxw
mxw_postfix_start "$pf" 127.0.0.1

"$MXW_PYTHON" "$load" policy --port "$policy_port" --connections 64 --sender a@nullmx.mxw.test \
    --until-file "$work/stop-load" >"$work/policy-load.json" &
load_policy=$!
"$MXW_PYTHON" "$load" socketmap --port "$smap_port" --connections 64 --key 'transport u@example.org' \
    --until-file "$work/stop-load" >"$work/socketmap-load.json" &
load_smap=$!
mxw_track_pid "$load_policy"
mxw_track_pid "$load_smap"

sent=0
send_batch() {  # five messages, each to a domain of its own (trivial-rewrite caches answers per recipient)
    local i
    for i in 1 2 3 4 5; do
        sent=$((sent + 1))
        printf 'Subject: restart-%d\n\nthrough a restart\n' "$sent" |
            sendmail -C "$pf/etc" -f sender@mxw.test "rcpt@m$sent.example.org"
    done
}
for round in 1 2 3; do
    send_batch
    sleep 0.5
    starts=$(grep -c ' start pid=' "$events")
    kill -USR1 "$holder_pid"
    ready_count() { (($(grep -c 'READY=1' "$events") > starts)); }
    mxw_poll 15 ready_count || fail "restart $round: the new daemon sent no READY=1"
done
send_batch
all_delivered() { (($(grep -l '^Subject: restart-' "$sink_dir"/* 2>/dev/null | wc -l) >= sent)); }
mxw_poll 60 all_delivered || true
got=$(grep -l '^Subject: restart-' "$sink_dir"/* 2>/dev/null | wc -l)
echo "delivered $got of $sent messages sent across 3 restarts"
((got == sent)) || fail "Postfix delivered $got of $sent messages"
deferred=$(grep -cE 'status=deferred|451 4.3.0|transport_maps lookup failure|lookup error' "$pf/maillog" || true)
((deferred == 0)) || fail "Postfix deferred mail during the restarts: $(grep -E 'status=deferred|4.3.0|lookup' "$pf/maillog" | head -3)"

touch "$work/stop-load"
wait "$load_policy" || fail "the policy load tool failed"
wait "$load_smap" || fail "the socketmap load tool failed"
for kind in policy socketmap; do
    read -r s a f < <("$MXW_PYTHON" -c \
        'import json,sys; r=json.load(open(sys.argv[1])); print(r["sent"], r["answered"], r["failed"])' "$work/$kind-load.json")
    echo "$kind load across the restarts: sent=$s answered=$a failed=$f"
    ((f == 0 && s == a && a > 500)) || fail "$kind load across the restarts: $(cat "$work/$kind-load.json")"
done

mxw_stop_pid "$holder_pid" 20 || fail "the socket holder failed"
(($(grep -c ' start pid=' "$events") == 4)) || fail "want 4 starts: $(cat "$events")"
(($(grep -c ' exit pid=[0-9]* status=0$' "$events") == 4)) || fail "a daemon did not exit 0: $(grep ' exit ' "$events")"
for p in $(sed -n 's/.* start pid=\([0-9]*\)$/\1/p' "$events"); do
    grep -q "notify pid=$p WATCHDOG=1" "$events" || fail "daemon $p sent no watchdog ping"
    grep -q "notify pid=$p STATUS=serving: " "$events" || fail "daemon $p sent no STATUS="
    grep -q "notify pid=$p STOPPING=1" "$events" || fail "daemon $p did not say STOPPING=1"
done
(($(grep -c 'event=listen-inherited listener=socketmap' "$work/mxwardend.log") == 4)) ||
    fail "not every start took the held socketmap socket"

# --- 3. SIGTERM with requests in flight; journald priorities --------------------------------------------------
mxw_start_faultdns "$work/dns" "$fault_port" "$ns_port" --udp silent --tcp silent
dlog=$work/drain.log
touch "$dlog"
export JOURNAL_STREAM
JOURNAL_STREAM=$(stat -c '%d:%i' "$dlog")
mxw_start_daemon "$work/drain-state" "$dlog" --dns.forwarders="127.0.0.1@$fault_port" --dns.timeout=3s \
    --policy.deadline=3s --listen.policy="inet:127.0.0.1:$policy_port" --daemon.drain-timeout=8s
unset JOURNAL_STREAM
"$MXW_PYTHON" - "$policy_port" >"$work/inflight.out" <<'PY' &
import socket, sys, time
conns = []
for i in range(10):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
    s.sendall(("request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=192.0.2.9\n"
               "client_name=unknown\nreverse_client_name=unknown\nsender=a@slow%d.example.net\n"
               "recipient=b@example.org\ninstance=drain.%d\n\n" % (i, i)).encode())
    conns.append(s)
answered = 0
for s in conns:
    s.settimeout(15)
    data = b""
    try:
        while not data.endswith(b"\n\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    answered += data.startswith(b"action=")
print("answered", answered)
PY
client=$!
# The requests are read and waiting on DNS before the stop.
asked_all() { (($(grep -c 'q=slow' "$MXW_FAULTDNS_LOG") >= 10)); }
mxw_poll 10 asked_all || fail "the daemon never asked DNS for all ten senders"
mxw_stop_daemon || fail "the daemon did not exit 0 after draining"
wait "$client" || true
grep -q '^answered 10$' "$work/inflight.out" || fail "requests in flight at SIGTERM: $(cat "$work/inflight.out")"
grep -q 'event=stopped unanswered-connections=0' "$dlog" || fail "the drain did not end with every connection answered"
grep -q '^<6>event=ready ' "$dlog" || fail "journal stream: the ready line has no info priority prefix"
grep -q '^<4>warning: .*sender=a@slow' "$dlog" || fail "journal stream: a decision with failed DNS is not a warning"

# A request that never completes holds the drain only until daemon.drain-timeout; the daemon still exits 0 (its
# session frames outlive the services that tracked them, which must not matter).
mxw_start_daemon "$work/drain-state" "$dlog" --dns.forwarders="127.0.0.1@$ns_port" \
    --listen.policy="inet:127.0.0.1:$policy_port" --daemon.drain-timeout=1s
"$MXW_PYTHON" -c 'import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
s.sendall(b"request=smtpd_access_policy\n")
time.sleep(10)' "$policy_port" &
half=$!
mxw_track_pid "$half"
one_connection() { mxw_cli status 2>/dev/null | grep -q '^policy connections: *1$'; }
mxw_poll 10 one_connection || fail "the half request's connection was not accepted"
t0=$SECONDS
mxw_stop_daemon || fail "the daemon did not exit 0 when the drain timed out"
((SECONDS - t0 <= 3)) || fail "the drain took $((SECONDS - t0)) s, daemon.drain-timeout is 1 s"
grep -q 'event=stopped unanswered-connections=1' "$dlog" || fail "the timed-out drain does not say what it left"
mxw_stop_pid "$half" || true

mxw_finish
