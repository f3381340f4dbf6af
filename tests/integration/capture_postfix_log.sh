#!/bin/bash
# Captures real Postfix smtp client log lines, one delivery per fake next hop, as fixtures for
# tests/unit/postfix_log_test.cpp (proto/postfix_log, issue 11). Not a test: run it by hand, as root in a private
# network namespace, after a Postfix upgrade or a new peer mode, and review the diff:
#
#   unshare -n sh -c 'ip link set lo up; tests/integration/capture_postfix_log.sh [OUT_DIR]'
#
# OUT_DIR defaults to tests/unit/data/postfix_log. Each message goes alone to one fixtures/smtp_peers.py mode (or
# to no listener at all, "refused"), and OUT_DIR/MODE.log receives every maillog line written from its submission
# to its final status= line, under a "#" header naming the mode. Two more cases go through DNS (nsd on
# 127.0.0.10:53, zones/mxw.test.zone): good.mxw.test, whose only MX is silent, and two-mx.mxw.test, whose first MX
# is silent and second accepts. Short Postfix timeouts keep the whole run under a minute.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/postfix.sh
source "$here/lib/postfix.sh"
# shellcheck source=lib/tls.sh
source "$here/lib/tls.sh"
out=${1:-$here/../unit/data/postfix_log}
mkdir -p "$out"
out=$(cd "$out" && pwd)
mxw_begin capture_postfix_log

pf=$work/pf
read -r smtpd_port ns_port < <(mxw_free_port 2)
mxw_tls_ca "$work/tls"
pem=$(mxw_tls_leaf "$work/tls" starttls.mxw.test)

# mode -> listener address; "refused" has none. 127.0.0.2 and .3 are mx1 and mx2 of zones/mxw.test.zone.
declare -A addr=(
    [silent]=127.0.0.21 [greet421]=127.0.0.22 [greet554]=127.0.0.23 [reset]=127.0.0.24 [hang-ehlo]=127.0.0.25
    [reset-starttls]=127.0.0.26 [mail421]=127.0.0.27 [drop-data]=127.0.0.28 [rcpt550]=127.0.0.29
    [starttls]=127.0.0.30 [ok]=127.0.0.31 [refused]=127.0.0.32
)
modes=(ok refused silent greet421 greet554 reset hang-ehlo reset-starttls mail421 drop-data rcpt550 starttls)
specs=(127.0.0.2:25=silent 127.0.0.3:25=ok)
transport=
for m in "${modes[@]}"; do
    transport+="$m.peer.mxw.test=smtp:[${addr[$m]}]:25, "
    [[ $m == refused ]] && continue
    if [[ $m == starttls ]]; then specs+=("${addr[$m]}:25=starttls:$pem"); else specs+=("${addr[$m]}:25=$m"); fi
done

mxw_start_nsd "$work/nsd" "$ns_port" 127.0.0.10@53
mxw_start_smtp_peers "$work/peers.log" "${specs[@]}"
mxw_postfix_create "$pf" "$smtpd_port"
# No retries during the run (a deferred message would come back inside a later case's window), short timeouts,
# and opportunistic TLS so that reset-starttls and starttls get a handshake.
mxw_postfix_conf "$pf" "transport_maps = inline:{ ${transport%, } }" \
    "smtp_connect_timeout = 3s" "smtp_helo_timeout = 3s" "smtp_data_done_timeout = 3s" \
    "queue_run_delay = 1h" "minimal_backoff_time = 1h" "maximal_backoff_time = 2h" \
    "smtp_tls_security_level = may" "smtp_tls_loglevel = 1"
mxw_postfix_start "$pf" 127.0.0.10

# capture NAME RCPT: one message to RCPT; its maillog lines go to $out/NAME.log once every smtp line for it ended
# in a status= line.
capture() {
    local name=$1 rcpt=$2 before file=$out/$1.log
    before=$(wc -l <"$pf/maillog")
    printf 'Subject: %s\n\ncapture\n' "$name" | sendmail -C "$pf/etc" -f sender@mxw.test "$rcpt"
    _final() { tail -n +"$((before + 1))" "$pf/maillog" | grep -qE '/smtp\[[0-9]+\]: [0-9A-Za-z]+: to=<.*status='; }
    mxw_poll 30 _final || fail "$name: no status= line within 30 s"
    # The smtp process logs its last lines just before the status; give qmgr its "removed" line too.
    sleep 0.5
    {
        printf '# Postfix %s, fixtures/smtp_peers.py mode %s; made by tests/integration/capture_postfix_log.sh\n' \
            "$(postconf -c "$pf/etc" -h mail_version)" "$name"
        tail -n +"$((before + 1))" "$pf/maillog"
    } >"$file"
    postsuper -c "$pf/etc" -d ALL >/dev/null 2>&1 || true
    echo "captured $file"
}

for m in "${modes[@]}"; do capture "$m" "user@$m.peer.mxw.test"; done
capture dns-silent-only user@good.mxw.test
capture dns-silent-then-ok user@two-mx.mxw.test
mxw_finish
