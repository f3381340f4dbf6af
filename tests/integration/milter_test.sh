#!/bin/bash
# mxwarden-milter driven by miltertest (tests/integration/milter/*.lua), asking a real mxwardend on the test zones:
#
#   miltertest --milter protocol--> mxwarden-milter A --policy--> mxwardend --> faultdns --> nsd 127.0.0.1@P
#                                   mxwarden-milter B, C --policy--> a closed port   (on-error accept / tempfail)
#                                   mxwarden-milter D --policy--> a daemon that never answers (--timeout 1s)
#
# The daemon quarantines clients without PTR (client.no-ptr = quarantine), so every verdict shows up: reject,
# tempfail, tag (header at end of message), quarantine (store, then discard) and continue. The scripts check the
# milter replies; this script checks the reply texts in the milter's decision lines and the quarantine store.
# Needs root, nsd, miltertest and Debian's /usr/bin/python3 with dnslib. Everything listens on 127.0.0.0/8.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/daemon.sh
source "$here/lib/daemon.sh"
# shellcheck source=lib/dns.sh
source "$here/lib/dns.sh"

mxw_begin milter_test
milter_pids=()

read -r ns_port fd_port policy_port dead_port slow_port m_real m_accept m_tempfail m_slow < <(mxw_free_port 9)
mxw_start_nsd "$work/nsd" "$ns_port"
mxw_start_faultdns "$work" "$fd_port" "$ns_port"
state=$work/state
mxw_start_daemon "$state" "$work/mxwardend.log" --listen.policy="inet:127.0.0.1:$policy_port" \
    --dns.forwarders="127.0.0.1@$fd_port" --client.no-ptr=quarantine --listen.metrics=

# A policy server that takes the connection and the request and never answers.
"$MXW_PYTHON" - "$slow_port" >"$work/slow.log" 2>&1 <<'EOF' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
print("event=ready", flush=True)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
EOF
stub_pid=$!
mxw_track_pid "$stub_pid"

# start_milter NAME PORT ARGS...: one milter on 127.0.0.1:PORT (milter.listen, in mxwarden's notation; libmilter
# gets inet:PORT@127.0.0.1), its stderr in $work/NAME.log.
start_milter() {
    local name=$1 port=$2
    shift 2
    mxw_start_milter "$work/$name.log" --milter.listen="inet:127.0.0.1:$port" "$@"
    milter_pids+=("$MXW_MILTER_PID")
}
# The real one takes its settings from an mxwarden.conf, as installed; the others from flags.
printf '[milter]\npolicy = inet:127.0.0.1:%s\n[quarantine]\ndatabase = %s\n' "$policy_port" "$state/quarantine.db" \
    >"$work/mxwarden.conf"
start_milter real "$m_real" -c "$work/mxwarden.conf"
start_milter accept "$m_accept" --policy "inet:127.0.0.1:$dead_port" --on-error accept
start_milter tempfail "$m_tempfail" --policy "inet:127.0.0.1:$dead_port" --on-error tempfail
start_milter slow "$m_slow" --policy "inet:127.0.0.1:$slow_port" --on-error tempfail --timeout 1s
mxw_wait_log 5 "$work/slow.log" 'event=ready' "$stub_pid"

# run_lua SCRIPT PORT [NAME=VALUE...]: one miltertest script against the milter on PORT; its output is shown.
run_lua() {
    local script=$1 port=$2 out rc=0
    shift 2
    local defs=(-D "DIR=$here/milter" -D "SOCK=inet:$port@127.0.0.1")
    local d
    for d in "$@"; do defs+=(-D "$d"); done
    out=$(miltertest "${defs[@]}" -s "$here/milter/$script" 2>&1) || rc=$?
    printf '%s\n' "$out" | sed 's/^/  /'
    ((rc == 0)) || fail "$script ($*) exited with status $rc"
}

# want_log NAME REGEX...: a line of milter NAME's log matches every REGEX.
want_log() {
    local name=$1 lines re
    shift
    lines=$(cat "$work/$name.log")
    for re in "$@"; do
        lines=$(grep -E -- "$re" <<<"$lines" || true)
    done
    [[ -n $lines ]] || fail "no line of the $name milter's log matches: $*"
}

echo "fixtures: nsd $ns_port, faultdns $fd_port, mxwardend $policy_port, milters $m_real $m_accept $m_tempfail $m_slow"
run_lua verdicts.lua "$m_real"

# Reply texts and codes, as the milter handed them to smfi_setreply (the MTA tests see them on the wire).
want_log real '^decision ' ' stage=CONNECT ' ' client=127\.0\.0\.20 ' ' client_name=client-ok\.mxw\.test ' ' verdict=continue'
want_log real ' stage=MAIL ' ' queue_id=QNULLMX ' \
    ' action="550 5\.7\.27 sender domain nullmx\.mxw\.test does not accept mail \(null MX, RFC 7505\)"' ' verdict=reject'
want_log real ' queue_id=QNXDOMAIN ' ' action="450 4\.1\.8 ' ' verdict=tempfail'
want_log real ' queue_id=QNODATA ' ' action="450 4\.1\.8 ' ' verdict=tempfail'
want_log real ' queue_id=QSERVFAIL ' ' action="451 4\.4\.3 ' ' verdict=tempfail'
want_log real ' queue_id=QNEXT ' ' stage=RCPT ' ' recipient=user@good\.mxw\.test ' ' verdict=continue'
want_log real ' queue_id=QBOUNCE ' ' stage=MAIL ' ' sender="" ' ' verdict=continue'
want_log real ' queue_id=QFORGED ' ' stage=MAIL ' ' client_name=unknown ' \
    ' action="PREPEND X-Mxwarden: client=not-confirmed 127\.0\.0\.21"' ' verdict=tag'
want_log real ' queue_id=QFORGED ' ' stage=END-OF-MESSAGE ' ' verdict=continue'
want_log real ' queue_id=QTEMP ' ' stage=MAIL ' ' verdict=tag'
want_log real ' stage=CONNECT ' ' client="not-an-address\?\?request=x" ' ' verdict=continue'
want_log real ' queue_id=QMALFORMED ' ' stage=RCPT ' ' recipient=no-brackets@good\.mxw\.test ' ' verdict=continue'
want_log real ' queue_id=QQUAR1 ' ' stage=MAIL ' ' action="FILTER mxq:client-no-ptr"' ' verdict=quarantine'
want_log real '^quarantined ' ' queue_id=QQUAR1 ' ' reason=client-no-ptr ' ' recipients=2 ' ' entry=[0-9]+'
# The engine is told about the MTA's own client lookup the way Postfix tells it: the FORGED client's PTR name
# reaches the daemon as reverse_client_name, so it only repeats the forward lookup.
grep -q 'client-forged' "$work/mxwardend.log" || fail "the daemon never saw the FORGED client's PTR name"

# The quarantined message: envelope, headers and body, as the CLI shows it.
list=$(mxw_cli quarantine list --json)
echo "quarantine list: $list"
id=$(grep -oE '"id": ?[0-9]+' <<<"$list" | head -n 1 | grep -oE '[0-9]+$' || true)
if [[ -z $id ]]; then
    fail "the quarantine is empty"
else
    for want in '"reason": ?"client-no-ptr"' '"sender": ?"q@good\.mxw\.test"' '"recipient_count": ?2' \
        '"subject": ?"quarantine me"'; do
        grep -Eq -- "$want" <<<"$list" || fail "quarantine list lacks $want"
    done
    msg=$(mxw_cli quarantine cat "$id")
    grep -q '^Subject: quarantine me' <<<"$msg" || fail "stored message lacks its Subject: $msg"
    grep -q '^first line of quarantine me' <<<"$msg" || fail "stored message lacks its body: $msg"
    show=$(mxw_cli quarantine show "$id" --json)
    grep -Eq '"queue_id": ?"QQUAR1"' <<<"$show" || fail "stored entry lacks the queue id: $show"
    grep -q 'user2@good.mxw.test' <<<"$show" || fail "stored entry lacks the second recipient: $show"
fi

# A store that refuses the write (a schema from the future): tempfail, nothing lost.
"$MXW_PYTHON" -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("PRAGMA user_version=99"); c.commit()' \
    "$state/quarantine.db"
run_lua quarantine_broken.lua "$m_real"
want_log real '^quarantine-failed ' ' queue_id=QQUAR2 ' ' error=".*schema version 99'
grep -q 'queue_id=QQUAR2 .* action="FILTER mxq:client-no-ptr"' "$work/real.log" || fail "QQUAR2 had no quarantine verdict"

# The daemon cannot be asked.
run_lua on_error.lua "$m_accept" WANT=accept
want_log accept '^policy-error ' ' stage=MAIL ' ' error="connect: Connection refused"' ' on_error=accept ' ' verdict=continue'
run_lua on_error.lua "$m_tempfail" WANT=tempfail
want_log tempfail '^policy-error ' ' stage=MAIL ' ' on_error=tempfail ' ' verdict=tempfail'
slow_start=$SECONDS
run_lua on_error.lua "$m_slow" WANT=tempfail
want_log slow '^policy-error ' ' stage=MAIL ' ' error="timeout while waiting for the reply"' ' verdict=tempfail'
# Connect and MAIL FROM each wait out the 1 s deadline; well below Sendmail's 10 s milter read timeout.
((SECONDS - slow_start <= 5)) || fail "the slow daemon held the milter for $((SECONDS - slow_start)) s"

# SIGTERM stops each milter cleanly (libmilter takes about 5 s to wind down; they stop in parallel).
for pid in "${milter_pids[@]}"; do kill -TERM "$pid"; done
for pid in "${milter_pids[@]}"; do
    status=0
    mxw_stop_pid "$pid" 20 || status=$?
    ((status == 0)) || fail "milter $pid exited with status $status after SIGTERM"
done
want_log real '^event=stopped'

mxw_finish
