#!/bin/bash
# Seed 000: the smart host is given by name, and the DNS server answers UDP only: a 512-byte answer is all a stub
# resolver without EDNS gets (bigrelay.mxw.test has 32 addresses, so it is truncated) and TCP, where it would retry,
# is refused. Stock Postfix (relayhost = bigrelay.mxw.test:PORT) cannot look the relay up, and the mail waits in
# the queue. With mxwarden (routing.mode = smarthost) the daemon resolves the relay itself, with EDNS, probes its
# addresses and hands Postfix [IP]:PORT: the mail leaves. `mxwarden doctor` names the server and what it lacks.
#
#   DNS: faultdns 127.0.0.10:53 (UDP truncated past the client's EDNS size, TCP refused) --> nsd
#   relay: 32 SMTP listeners on 127.0.9.1-32:PORT
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
mxw_begin seed000

read -r ns_port relay_port smap_port policy_port < <(mxw_free_port 4)
mxw_start_nsd "$work/nsd" "$ns_port"
mxw_start_faultdns "$work/dns" 53 "$ns_port" --addr 127.0.0.10 --udp edns --tcp refuse
peers=()
for i in $(seq 32); do peers+=("127.0.9.$i:$relay_port=ok"); done
mxw_start_smtp_peers "$work/peers.log" "${peers[@]}"

# --- without mxwarden
pf_instance "$work/stock"
mxw_postfix_conf "$work/stock" "relayhost = bigrelay.mxw.test:$relay_port"
mxw_postfix_start "$work/stock" 127.0.0.10
submit "$work/stock" seed000-stock user@example.org
stock_deferred "$work/stock" seed000-stock
show "without mxwarden (relayhost = bigrelay.mxw.test:$relay_port): the message stays queued:" "$reason"
[[ $reason == *"bigrelay.mxw.test"* ]] || fail "stock Postfix: want the relay lookup failure, got '$reason'"
grep -q 'message from' "$work/peers.log" && fail "stock Postfix reached the relay; the DNS fault did not bite"

# --- with mxwarden
mxw_start_daemon "$work/state" "$work/mxwardend.log" --dns.forwarders=127.0.0.10@53 \
    --listen.policy="inet:127.0.0.1:$policy_port" --listen.socketmap="inet:127.0.0.1:$smap_port" \
    --routing.mode=smarthost --routing.smarthost="bigrelay.mxw.test:$relay_port" --routing.exclude=localhost \
    --routing.deny-addresses=0.0.0.0/8 --routing.answer-budget=2s
pf_instance "$work/mxw"
mxw_postfix_conf "$work/mxw" "transport_maps = socketmap:inet:127.0.0.1:$smap_port:transport"
mxw_postfix_mxw "$work/mxw" -o smtp_helo_timeout=10s
mxw_postfix_start "$work/mxw" 127.0.0.10
start=$SECONDS
submit "$work/mxw" seed000-mxw user@example.org
mxw_wait_log 30 "$work/mxw/maillog" 'relay=127\.0\.9\.[0-9]*\[127\.0\.9\.[0-9]*\]:'"$relay_port"'.*status=sent' ||
    fail "with mxwarden the message did not leave through the smart host"
show "with mxwarden (routing.smarthost = bigrelay.mxw.test:$relay_port): delivered in $((SECONDS - start)) s:" \
    "$(grep -o 'relay=127\.0\.9\.[^ ]* .*status=sent[^)]*)' "$work/mxw/maillog" | head -1)"

# --- doctor
rc=0
doc=$("$MXW_BUILD/mxwarden" --daemon.state-dir="$work/state" doctor --dns.forwarders=127.0.0.10@53 \
    --routing.mode=smarthost --routing.smarthost="bigrelay.mxw.test:$relay_port" --postfix-config "$work/stock/etc" \
    --name good.mxw.test --outbound-ip 127.0.0.20 --helo-name client-ok.mxw.test --timeout 1s 2>&1) || rc=$?
show "mxwarden doctor, on the stock configuration:" "$(grep -A1 -E '127\.0\.0\.10 A bigrelay|relayhost' <<<"$doc")"
grep -q 'warn  127.0.0.10 A bigrelay.mxw.test: udp: truncated, .*tcp: refused.*TCP fails' <<<"$doc" ||
    fail "doctor does not name the server that refuses TCP: $doc"
grep -q 'fix: relayhost bigrelay.mxw.test:'"$relay_port"' is looked up' <<<"$doc" ||
    fail "doctor does not flag the relayhost given by name"
mxw_finish
