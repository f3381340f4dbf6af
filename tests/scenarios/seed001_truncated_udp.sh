#!/bin/bash
# Seed 001: a recipient domain with a large MX set (big.mxw.test: 40 MX, about 2.9 kB) behind a DNS server whose
# UDP answers are truncated past the client's EDNS size and whose TCP is blocked. Stock Postfix cannot get the MX
# set and the mail waits. mxwarden with its default udp-then-tcp fails the same way, and says so at once; with
# dns.transport = udp-only it asks for 4096-byte answers over UDP and the mail goes out. `mxwarden doctor` says
# which mode works.
#
#   DNS: faultdns 127.0.0.10:53 (UDP truncated past the client's EDNS size, TCP refused) --> nsd
#   MX hosts: all 40 at 127.0.0.2:25 (a fixture that takes the message)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
mxw_begin seed001

read -r ns_port smap_port policy_port < <(mxw_free_port 3)
mxw_start_nsd "$work/nsd" "$ns_port"
mxw_start_faultdns "$work/dns" 53 "$ns_port" --addr 127.0.0.10 --udp edns --tcp refuse
mxw_start_smtp_peers "$work/peers.log" 127.0.0.2:25=ok

# --- without mxwarden: Postfix's own MX lookup
pf_instance "$work/stock"
mxw_postfix_start "$work/stock" 127.0.0.10
submit "$work/stock" seed001-stock user@big.mxw.test
stock_deferred "$work/stock" seed001-stock
show "without mxwarden: the message stays queued:" "$reason"
[[ $reason == *"big.mxw.test"* ]] || fail "stock Postfix: want the MX lookup failure, got '$reason'"

# --- with mxwarden, default transport (udp-then-tcp): the same failure, logged at once with server and transport
daemon_args=(--dns.forwarders=127.0.0.10@53 --dns.timeout=2s --listen.policy="inet:127.0.0.1:$policy_port"
    --listen.socketmap="inet:127.0.0.1:$smap_port" --routing.deny-addresses=0.0.0.0/8 --routing.answer-budget=3s)
mxw_start_daemon "$work/state" "$work/mxwardend.log" "${daemon_args[@]}"
"$MXW_BUILD/mxwarden" --daemon.state-dir="$work/state" route big.mxw.test >/dev/null || true
failure=$(grep 'event=route-dns-failure domain=big.mxw.test' "$work/mxwardend.log" | head -1)
show "mxwarden with dns.transport = udp-then-tcp logs:" "$failure"
[[ $failure == *"servers=127.0.0.10@53 transport=udp-then-tcp"* ]] ||
    fail "the failure is not logged with its server and transport: '$failure'"
mxw_stop_daemon || fail "mxwardend did not stop cleanly"

# --- doctor says which mode works
rc=0
doc=$("$MXW_BUILD/mxwarden" --daemon.state-dir="$work/state" doctor --dns.forwarders=127.0.0.10@53 \
    --name big.mxw.test --outbound-ip 127.0.0.20 --helo-name client-ok.mxw.test --postfix-config "$work/stock/etc" \
    --timeout 1s 2>&1) || rc=$?
show "mxwarden doctor --name big.mxw.test:" "$(grep -A1 '127\.0\.0\.10 MX big' <<<"$doc")"
grep -q 'fix: set dns.transport = udp-only' <<<"$doc" || fail "doctor does not recommend udp-only: $doc"

# --- with mxwarden, dns.transport = udp-only: delivered
mxw_start_daemon "$work/state" "$work/mxwardend.log" "${daemon_args[@]}" --dns.transport=udp-only
pf_instance "$work/mxw"
mxw_postfix_conf "$work/mxw" "transport_maps = socketmap:inet:127.0.0.1:$smap_port:transport"
mxw_postfix_mxw "$work/mxw" -o smtp_helo_timeout=10s
mxw_postfix_start "$work/mxw" 127.0.0.10
start=$SECONDS
submit "$work/mxw" seed001-mxw user@big.mxw.test
mxw_wait_log 30 "$work/mxw/maillog" 'to=<user@big.mxw.test>, relay=127.0.0.2\[127.0.0.2\]:25.*status=sent' ||
    fail "with dns.transport = udp-only the message was not delivered"
show "with mxwarden, dns.transport = udp-only: delivered in $((SECONDS - start)) s:" \
    "$(grep -o 'relay=127\.0\.0\.2[^ ]* .*status=sent[^)]*)' "$work/mxw/maillog" | head -1)"
mxw_finish
