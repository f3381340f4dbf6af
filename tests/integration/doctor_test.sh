#!/bin/bash
# mxwarden doctor against real DNS servers on loopback: nsd, and the fault-injecting proxy in front of it.
#   seed 001/000: big answers truncated over UDP, TCP refused  -> FAIL, fix "dns.transport = udp-only"; ok with it
#   seed 002:     a server that does not answer, one that SERVFAILs  -> FAIL with the fix
#   seed 003:     our PTR confirmed / forged / missing, HELO name vs PTR
#   Postfix lint on a private main.cf: relayhost by name, policy service without default_action;
#     routing.steer = dns-filter wants smtp_dns_reply_filter, not the mxw clone; transport flags the filter
#   the daemon reachable, and --json parses.
# Free ports only: may run beside the other tests.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/postfix.sh
source "$here/lib/postfix.sh"
# shellcheck source=lib/daemon.sh
source "$here/lib/daemon.sh"

mxw_begin doctor_test

read -r ns_port tc_port ok_port dead_port policy_port < <(mxw_free_port 5)
mxw_start_nsd "$work/nsd" "$ns_port"
# Answers bigger than the client's EDNS size come back truncated; TCP is refused (seeds 000, 001).
mxw_start_faultdns "$work/dns" "$tc_port" "$ns_port" --udp edns --tcp refuse
mxw_start_faultdns "$work/dns" "$ok_port" "$ns_port" --udp answer --tcp answer

# doctor ARGS...: the CLI with a state dir of its own (no daemon unless started), output in $out, status in $rc.
doctor() {
    rc=0
    out=$("$MXW_BUILD/mxwarden" --daemon.state-dir="$work/state" doctor --timeout 1s --helo-name mta.mxw.test \
        --postfix-config "$work/nopf" "$@" 2>&1) || rc=$?
}
expect() {  # expect PATTERN WHAT
    grep -qE -- "$1" <<<"$out" || { fail "$2"; printf '%s\n' "$out" | sed 's/^/    /' >&2; }
}
mkdir -p "$work/nopf"

doctor --dns.forwarders="127.0.0.1@$tc_port" --name big.mxw.test --outbound-ip 127.0.0.20
echo "--- doctor, forwarder truncates and refuses TCP:"
printf '%s\n' "$out" | sed 's/^/  /'
((rc == 1)) || fail "doctor should exit 1 on a failed check, got $rc"
expect "FAIL  127.0.0.1@$tc_port MX big.mxw.test: udp: truncated, udp\\+edns1232: truncated, udp\\+edns4096: ok \\(40 records\\), tcp: refused" \
    "the transports of the truncating server"
expect 'fix: set dns.transport = udp-only' "the udp-only advice"
expect 'ok    PTR 127.0.0.20: client-ok.mxw.test \(resolves back to 127.0.0.20\)' "our PTR, forward-confirmed"
expect 'warn  HELO name: mta.mxw.test \(the PTR says client-ok.mxw.test\)' "HELO name differs from the PTR"
expect 'fix: set smtp_helo_name = client-ok.mxw.test' "the HELO fix"
expect 'FAIL  unix:.*control.sock: not reachable' "the daemon is not running"

doctor --dns.forwarders="127.0.0.1@$tc_port" --dns.transport=udp-only --name big.mxw.test --outbound-ip 127.0.0.20 \
    --helo-name client-ok.mxw.test
expect "ok    127.0.0.1@$tc_port MX big.mxw.test" "with dns.transport = udp-only the truncating server is fine"
expect 'ok    HELO name: client-ok.mxw.test \(matches the PTR\)' "HELO name that matches"

doctor --dns.forwarders="127.0.0.1@$dead_port,127.0.0.1@$ok_port" --name big.mxw.test --name x.servfail.mxw.test \
    --outbound-ip 127.0.0.21
echo "--- doctor, a dead server and a good one:"
printf '%s\n' "$out" | sed 's/^/  /'
expect "FAIL  127.0.0.1@$dead_port MX big.mxw.test: .*the server does not answer at all" "the dead server"
expect "ok    127.0.0.1@$ok_port MX big.mxw.test" "the good server"
expect "FAIL  127.0.0.1@$ok_port MX x.servfail.mxw.test: .*cannot resolve x.servfail.mxw.test \\(SERVFAIL\\)" \
    "a SERVFAIL (seed 002)"
expect 'FAIL  PTR 127.0.0.21: client-forged.mxw.test \(does not resolve back to 127.0.0.21\)' "a forged PTR"

doctor --dns.forwarders="127.0.0.1@$ok_port" --name good.mxw.test --outbound-ip 127.0.0.22
expect 'FAIL  PTR 127.0.0.22: no PTR record \(NXDOMAIN\)' "a missing PTR"

# Postfix lint on a private configuration, and a running daemon.
mxw_postfix_create "$work/pf" 2525
mxw_postfix_conf "$work/pf" "relayhost = relay.mxw.test:587" \
    "smtpd_recipient_restrictions = reject_unauth_destination, check_policy_service inet:127.0.0.1:$policy_port" \
    "transport_maps = socketmap:inet:127.0.0.1:10041:transport"
mxw_start_daemon "$work/state" "$work/mxwardend.log" --dns.forwarders="127.0.0.1@$ok_port" \
    --listen.policy="inet:127.0.0.1:$policy_port"
# pf_doctor ARGS...: doctor against that configuration and the running daemon.
pf_doctor() {
    rc=0
    out=$("$MXW_BUILD/mxwarden" --daemon.state-dir="$work/state" doctor --timeout 1s --helo-name client-ok.mxw.test \
        --postfix-config "$work/pf/etc" --dns.forwarders="127.0.0.1@$ok_port" --name good.mxw.test \
        --outbound-ip 127.0.0.20 "$@" 2>&1) || rc=$?
}
pf_doctor
echo "--- doctor with a Postfix configuration and the daemon running:"
printf '%s\n' "$out" | sed 's/^/  /'
expect 'warn  relayhost: relay.mxw.test:587' "an unbracketed relayhost"
expect 'fix: relayhost relay.mxw.test:587 is looked up .* \(seed 000\)' "the relayhost fix"
expect 'FAIL  transport mxw: transport_maps answers name mxw, but master.cf has no such service' "missing mxw clone"
expect 'warn  smtp_tls_policy_maps: not set' "missing tls map"
expect "warn  smtpd_recipient_restrictions policy service: inet:127.0.0.1:$policy_port" "policy service without default"
expect 'ok    unix:.*control.sock: reachable; policy requests' "the daemon is reachable"

# The lint follows routing.steer. dns-filter: the dnsfilter map in smtp_dns_reply_filter, neither clone nor tls map.
filter_map=socketmap:inet:127.0.0.1:10041:dnsfilter
pf_doctor --routing.steer=dns-filter
echo "--- doctor, routing.steer = dns-filter without the filter:"
printf '%s\n' "$out" | sed 's/^/  /'
expect 'FAIL  smtp_dns_reply_filter: not set' "dns-filter steer without smtp_dns_reply_filter"
expect "fix: .*set smtp_dns_reply_filter = $filter_map " "the smtp_dns_reply_filter line"
! grep -qE 'transport mxw|smtp_tls_policy_maps' <<<"$out" || fail "dns-filter steer asks for the mxw clone or the tls map"
mxw_postfix_conf "$work/pf" "smtp_dns_reply_filter = $filter_map" \
    "smtp_tls_policy_maps = socketmap:inet:127.0.0.1:10041:tls"
pf_doctor --routing.steer=dns-filter
expect "ok    smtp_dns_reply_filter: $filter_map" "dns-filter steer with the filter"
expect 'warn  smtp_tls_policy_maps: socketmap:inet:127.0.0.1:10041:tls' "a leftover tls map"
expect 'fix: harmless, but not needed' "the leftover tls map's fix"
# transport: the same filter is a mismatch.
pf_doctor
expect "warn  smtp_dns_reply_filter: $filter_map \\(mxwarden's dnsfilter map, but routing.steer = transport" \
    "the dnsfilter map with routing.steer = transport"
expect 'fix: set routing.steer = dns-filter' "the mismatch fix"

json=$("$MXW_BUILD/mxwarden" --daemon.state-dir="$work/state" doctor --json --timeout 1s --helo-name x \
    --postfix-config "$work/nopf" --dns.forwarders="127.0.0.1@$ok_port" --name good.mxw.test \
    --outbound-ip 127.0.0.20) || true
"$MXW_PYTHON" -c '
import json, sys
d = json.loads(sys.stdin.read())
assert any(c["area"] == "dns" and c["status"] == "ok" for c in d["checks"]), d
assert all(set(c) == {"area", "subject", "status", "detail", "fix"} for c in d["checks"]), d
' <<<"$json" || fail "doctor --json is not the expected JSON: $json"

mxw_finish
