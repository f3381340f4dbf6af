#!/bin/bash
# dns.transport proven through the daemon against real servers: nsd, and fixtures/faultdns.py in front of it, whose
# per-query log tells which transport each query came over. Every case starts its own mxwardend (the transport is
# fixed at start-up) and asks it with `mxwarden check sender ... --json`, which bypasses the verdict cache.
# Also: a bad dns.transport is refused by --check-config, and identical lookups in flight are coalesced.
# Only its own servers on 127.0.0.0/8 are ever queried.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/dns.sh
source "$here/lib/dns.sh"
# shellcheck source=lib/daemon.sh
source "$here/lib/daemon.sh"

mxw_begin dns_transport_test

# The fault servers' logs, read from a mark on: each case judges only the queries its own daemon sent.
declare -A fd_mark
mark_faultdns() {
    local port
    for port in "$@"; do
        fd_mark[$port]=$(wc -l <"$work/faultdns-$port.log")
    done
}
fd_new() { tail -n +"$((fd_mark[$1] + 1))" "$work/faultdns-$1.log"; }
want_fd() { fd_new "$1" | grep -E -- "$2" >/dev/null || fail "faultdns:$1 logged no query matching '$2' (${3:-})"; }
want_no_fd() { ! fd_new "$1" | grep -E -- "$2" >/dev/null || fail "faultdns:$1 logged a query matching '$2' (${3:-})"; }

# begin_case NAME FORWARDER_PORT [--section.key=value ...]: a fresh daemon forwarding to 127.0.0.1@PORT, and marks
# in every fault server's log.
begin_case() {
    case_name=$1
    local port=$2
    shift 2
    case_failures=0
    echo "--- $case_name"
    mark_faultdns "${fault_ports[@]}"
    mxw_start_daemon "$work/$case_name" "$work/$case_name.log" --listen.policy="unix:$work/$case_name/policy.sock" \
        --dns.forwarders="127.0.0.1@$port" "$@"
}

# end_case: stop the daemon; after a failure show what the daemon and the fault servers logged meanwhile.
end_case() {
    mxw_stop_daemon || fail "mxwardend did not stop cleanly"
    if ((case_failures)); then
        echo "--- daemon log ($case_name) ---" >&2
        cat "$work/$case_name.log" >&2
        local port
        for port in "${fault_ports[@]}"; do
            echo "--- faultdns:$port queries during $case_name ---" >&2
            fd_new "$port" >&2
        done
    fi
}

# ask sender ADDRESS | ask client IP: the daemon's verdict (mxw_ask), shown, and the number of big.mxw.test's MX
# names in the evidence (mx_count).
ask() {
    mxw_ask "$@"
    mx_count=$({ grep -oE '[0-9]+ mx[0-9]+-long-exchange-name' <<<"$evidence" || true; } | wc -l)
    printf '  check %s %s -> result=%s action=%s reply="%s" (%d ms)\n' "$1" "$2" "$result" "$action" "$reply" "$ms"
}

# read_counter NAME: one counter from `mxwarden status --json`.
read_counter() { mxw_cli status --json | "$MXW_PYTHON" -c "import json, sys; print(json.load(sys.stdin)['$1'])"; }

want_all_of_big() { ((mx_count == 40)) || fail "big.mxw.test: $mx_count of its 40 MX records in the evidence"; }
want_ms_below() { ((ms < $1)) || fail "took $ms ms, want < $1 ms"; }
want_ms_from() { ((ms >= $1)) || fail "took $ms ms, want >= $1 ms"; }

read -r ns fd_count fd_tc_refuse fd_edns_refuse fd_silent < <(mxw_free_port 5)
fault_ports=("$fd_count" "$fd_tc_refuse" "$fd_edns_refuse" "$fd_silent")
mxw_start_nsd "$work/nsd" "$ns"
# Honours the client's EDNS size like nsd, and logs every query with its transport.
mxw_start_faultdns "$work" "$fd_count" "$ns" --udp edns --tcp answer
# Seed 001: every UDP answer truncated, TCP refused (no listener: the kernel answers the SYN with RST).
mxw_start_faultdns "$work" "$fd_tc_refuse" "$ns" --udp tc --tcp refuse
mxw_start_faultdns "$work" "$fd_edns_refuse" "$ns" --udp edns --tcp refuse
mxw_start_faultdns "$work" "$fd_silent" "$ns" --udp silent --tcp silent
echo "fixtures: nsd $ns, faultdns edns/answer $fd_count, tc/refuse $fd_tc_refuse, edns/refuse $fd_edns_refuse," \
    "silent/silent $fd_silent"

modes=(udp-then-tcp tcp-only udp-only)

# --- nsd itself: every mode resolves a small answer and the 2.9 kB one, complete -------------------------------
for mode in "${modes[@]}"; do
    begin_case "nsd-$mode" "$ns" --dns.transport="$mode"
    ask sender a@good.mxw.test
    want_ok
    want evidence "$evidence" 'MX good\.mxw\.test ok .*10 mx1\.mxw\.test'
    ask sender a@big.mxw.test
    want_ok
    want_all_of_big
    end_case
done

# --- which transport each mode really uses, counted by the proxy ----------------------------------------------
# Any UDP or TCP query the daemon sends is logged, whatever the fixture's mode, so absence in the log is proof.
begin_case count-udp-then-tcp "$fd_count" --dns.transport=udp-then-tcp
ask sender a@good.mxw.test
want_ok
ask sender a@big.mxw.test
want_ok
want_all_of_big
want_fd "$fd_count" '^udp q=good\.mxw\.test MX -> answer' "a small answer comes over UDP"
want_no_fd "$fd_count" '^tcp q=good\.mxw\.test' "a small answer needs no TCP"
# libunbound offers EDNS 1232 in this mode; the 2.9 kB answer does not fit, so TC, and the retry over TCP.
want_fd "$fd_count" '^udp q=big\.mxw\.test MX -> tc' "big answer truncated over UDP"
want_fd "$fd_count" '^tcp q=big\.mxw\.test MX -> answer' "big answer fetched over TCP"
end_case

begin_case count-tcp-only "$fd_count" --dns.transport=tcp-only
ask sender a@good.mxw.test
want_ok
ask sender a@big.mxw.test
want_ok
want_all_of_big
want_no_fd "$fd_count" '^udp ' "tcp-only sends no UDP at all"
want_fd "$fd_count" '^tcp q=good\.mxw\.test MX -> answer' "small answer over TCP"
want_fd "$fd_count" '^tcp q=big\.mxw\.test MX -> answer' "big answer over TCP"
# The client check's PTR and forward lookups take the same path.
ask client 127.0.0.20
want_ok
want evidence "$evidence" 'PTR 20\.0\.0\.127\.in-addr\.arpa ok .*client-ok\.mxw\.test.*; A client-ok\.mxw\.test ok .*127\.0\.0\.20'
want_fd "$fd_count" '^tcp q=20\.0\.0\.127\.in-addr\.arpa PTR -> answer' "PTR over TCP"
want_fd "$fd_count" '^tcp q=client-ok\.mxw\.test A -> answer' "forward lookup over TCP"
want_no_fd "$fd_count" '^udp ' "tcp-only sends no UDP at all"
end_case

begin_case count-udp-only "$fd_count" --dns.transport=udp-only
ask sender a@big.mxw.test
want_ok
want_all_of_big
# udp-only offers EDNS 4096, so the whole answer fits one datagram and nothing is truncated.
want_fd "$fd_count" '^udp q=big\.mxw\.test MX -> answer' "big answer whole over UDP"
want_no_fd "$fd_count" '^udp q=big\.mxw\.test MX -> tc' "udp-only is never truncated at EDNS 4096"
want_no_fd "$fd_count" '^tcp ' "udp-only never uses TCP"
end_case

# --- seed 001: UDP always truncated, TCP refused ----------------------------------------------------------------
# A refused TCP connection is an immediate failure, so the modes that use TCP give up at once: well under the
# 5 s dns.timeout. The refused connections never reach the fixture, so its log shows only the UDP side.
for mode in udp-then-tcp tcp-only; do
    begin_case "tc-refuse-$mode" "$fd_tc_refuse" --dns.transport="$mode" --dns.timeout=5s
    ask sender a@big.mxw.test
    want_tempfail
    want evidence "$evidence" 'MX big\.mxw\.test servfail'
    want_ms_below 1500
    if [[ $mode == tcp-only ]]; then
        want_no_fd "$fd_tc_refuse" '^udp ' "tcp-only sends no UDP"
    else
        want_fd "$fd_tc_refuse" '^udp q=big\.mxw\.test MX -> tc' "UDP tried first and truncated"
    fi
    end_case
done
# Without TCP, libunbound never accepts a truncated answer and keeps retrying over UDP: the lookup ends at the
# daemon's own deadline (dns.timeout), not sooner, and the evidence says so.
begin_case tc-refuse-udp-only "$fd_tc_refuse" --dns.transport=udp-only --dns.timeout=1s
ask sender a@big.mxw.test
want_tempfail
want evidence "$evidence" 'MX big\.mxw\.test timeout'
want_ms_from 900
want_ms_below 3000
want_fd "$fd_tc_refuse" '^udp q=big\.mxw\.test MX -> tc' "the UDP answers were truncated"
end_case

# --- UDP honours EDNS, TCP refused: only udp-only's large EDNS buffer gets the big answer -----------------------
begin_case edns-refuse-udp-only "$fd_edns_refuse" --dns.transport=udp-only
ask sender a@big.mxw.test
want_ok
want_all_of_big
want_fd "$fd_edns_refuse" '^udp q=big\.mxw\.test MX -> answer \(udp=[0-9]+ tcp=0\)' "whole answer over UDP"
want_no_fd "$fd_edns_refuse" '^udp q=big\.mxw\.test MX -> tc' "nothing truncated at EDNS 4096"
end_case
# udp-then-tcp keeps libunbound's default EDNS size of 1232 (the DNS flag day value), so the 2.9 kB answer comes
# back truncated, the TCP retry is refused, and the lookup fails at once; a small answer still works over UDP.
# That is the reason udp-only raises the EDNS size: it has no TCP to fall back to.
begin_case edns-refuse-udp-then-tcp "$fd_edns_refuse" --dns.transport=udp-then-tcp --dns.timeout=5s
ask sender a@big.mxw.test
want_tempfail
want evidence "$evidence" 'MX big\.mxw\.test servfail'
want_ms_below 1500
want_fd "$fd_edns_refuse" '^udp q=big\.mxw\.test MX -> tc' "truncated at EDNS 1232"
ask sender a@good.mxw.test
want_ok
end_case

# --- a server that never answers: the daemon's own deadline ends the lookup -------------------------------------
# libunbound alone would wait 17-18 s here; dns.timeout=1s must bound every mode.
for mode in "${modes[@]}"; do
    begin_case "silent-$mode" "$fd_silent" --dns.transport="$mode" --dns.timeout=1s
    ask sender a@good.mxw.test
    want_tempfail
    want evidence "$evidence" 'MX good\.mxw\.test timeout'
    want_ms_from 900
    want_ms_below 3000
    timeouts=$(read_counter dns_lookup_timeouts)
    ((timeouts >= 1)) || fail "status shows dns_lookup_timeouts=$timeouts after a timed-out lookup"
    if [[ $mode == tcp-only ]]; then
        want_fd "$fd_silent" '^tcp q=good\.mxw\.test MX -> silent' "asked over TCP"
    else
        want_fd "$fd_silent" '^udp q=good\.mxw\.test MX -> silent' "asked over UDP"
    fi
    end_case
done

# --- SERVFAIL from upstream is a temporary failure --------------------------------------------------------------
begin_case servfail "$fd_count" --dns.timeout=5s
ask sender a@x.servfail.mxw.test
want_tempfail
want evidence "$evidence" 'MX x\.servfail\.mxw\.test servfail'
want_ms_below 1500
want_fd "$fd_count" '^udp q=x\.servfail\.mxw\.test MX -> servfail' "the fixture answered SERVFAIL"
end_case

# --- configuration: a bad transport is refused before anything starts -------------------------------------------
case_name=check-config
echo "--- $case_name"
for mode in "${modes[@]}"; do
    rc=0
    out=$("$MXW_BUILD/mxwardend" --check-config --dns.transport="$mode" 2>&1) || rc=$?
    ((rc == 0)) || fail "--check-config --dns.transport=$mode exited $rc: $out"
done
rc=0
out=$("$MXW_BUILD/mxwardend" --check-config --dns.transport=bogus 2>&1) || rc=$?
echo "  mxwardend --check-config --dns.transport=bogus -> exit $rc: $out"
((rc == 78)) || fail "--check-config --dns.transport=bogus exited $rc, want 78 (EX_CONFIG)"
[[ $out == *dns.transport* ]] || fail "the message does not name dns.transport: $out"

# --- coalescing: 20 policy requests for one domain in flight share one upstream query ---------------------------
# Sent over the policy socket, as 20 smtpd processes would (the control socket takes 16 connections at most).
# The silent server keeps the first query in flight for the whole dns.timeout, so all 20 requests overlap it.
# The client name is given, as Postfix gives it for a verified client, so only the sender domain is looked up.
begin_case coalesce "$fd_silent" --dns.timeout=3s
started0=$(read_counter dns_queries_started)
coalesced0=$(read_counter dns_lookups_coalesced)
replies=$("$MXW_PYTHON" "$here/fixtures/policy_client.py" "unix:$work/$case_name/policy.sock" 20 \
    request=smtpd_access_policy protocol_state=RCPT protocol_name=ESMTP client_address=127.0.0.20 \
    client_name=client-ok.mxw.test reverse_client_name=client-ok.mxw.test helo_name=client-ok.mxw.test \
    sender=a@c.silent.mxw.test recipient=user@good.mxw.test instance=coalesce) || fail "policy_client failed: $replies"
started=$(($(read_counter dns_queries_started) - started0))
coalesced=$(($(read_counter dns_lookups_coalesced) - coalesced0))
upstream=$(fd_new "$fd_silent" | grep -c 'q=c\.silent\.mxw\.test ' || true)
echo "  20 concurrent requests: $started query started, $coalesced coalesced, $upstream packets at the server"
[[ $(grep -c '^action=451 4\.4\.3 ' <<<"$replies") -eq 20 ]] || fail "not every request got 451 4.4.3: $replies"
((started == 1 && coalesced == 19)) || fail "want 1 query started and 19 coalesced, got $started and $coalesced"
((upstream < 20)) || fail "$upstream queries reached the server for 20 requests"
end_case

mxw_finish
