#!/bin/bash
# The DANE fixture proven with stock Postfix (issue 11): at smtp_tls_security_level = dane, a TLSA record in a
# DNSSEC-signed zone makes Postfix verify its peer by DANE. The zone dane.test is made and signed here; nsd serves
# it, and unbound on 127.0.0.10:53 (where Postfix's resolv.conf points) validates it with the zone's DS as its only
# trust anchor, so Postfix sees the AD bit. The peer is a second private Postfix with STARTTLS on 127.0.0.45:25.
#   dane.test        MX mx.dane.test, whose TLSA 3 1 1 holds the SPKI digest of the peer's certificate:
#                    the message is delivered over a TLS connection Postfix logs as verified;
#   wrong.dane.test  MX mx-wrong.dane.test, the same peer, but its TLSA digest matches no key: Postfix defers the
#                    message rather than send it unverified.
#   filter.dane.test MX 10 mx-silent.dane.test (127.0.0.44, accepts TCP and never greets), MX 20 mx.dane.test;
#                    with mxwardend as Postfix's smtp_dns_reply_filter (routing.steer = dns-filter): the silent
#                    host's record is dropped, the message goes straight to mx.dane.test, and the connection is
#                    still verified by DANE; wrong.dane.test is still deferred. The filter takes records away and
#                    never adds or changes one, so DANE stays DANE.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/dane.sh
source "$here/lib/dane.sh"
# shellcheck source=lib/daemon.sh
source "$here/lib/daemon.sh"

for tool in ldns-keygen ldns-signzone unbound openssl; do
    command -v "$tool" >/dev/null || { echo "dane test: $tool missing (packaging/install-deps --test)" >&2; exit 1; }
done
mxw_begin dane_test

resolver=127.0.0.10@53
peer_addr=127.0.0.45
silent_addr=127.0.0.44

# --- the signed zone, its resolver and the peer -----------------------------------------------------------------
mxw_dane_cert "$work/tls" mx.dane.test
good_digest=$(mxw_dane_spki_sha256 "$work/tls/mx.dane.test.crt")
# The right digest with its last hex digit changed: well-formed, but no key hashes to it.
last=${good_digest: -1}
wrong_digest=${good_digest%?}$([[ $last == 0 ]] && echo 1 || echo 0)
mxw_dane_zone "$work/zone" dane.test mx.dane.test "$peer_addr" "$work/tls/mx.dane.test.crt" \
    "wrong IN MX 10 mx-wrong.dane.test." \
    "mx-wrong IN A $peer_addr" \
    "_25._tcp.mx-wrong IN TLSA 3 1 1 $wrong_digest" \
    "filter IN MX 10 mx-silent.dane.test." \
    "filter IN MX 20 mx.dane.test." \
    "mx-silent IN A $silent_addr"

read -r nsd_port smtpd_port smap_port < <(mxw_free_port 3)
mxw_start_nsd_with_zone "$work/nsd" "$nsd_port" dane.test "$MXW_DANE_SIGNED"
mxw_start_validating_resolver "$work/unbound" "$resolver" "$nsd_port" dane.test "$MXW_DANE_ANCHOR"
echo "fixtures: nsd $nsd_port serving dane.test, unbound $resolver with anchor $MXW_DANE_ANCHOR"

# What Postfix will ask, validated; without the AD bit Postfix would not even look for TLSA records.
case_name=resolver
for q in "dane.test MX" "mx.dane.test A" "_25._tcp.mx.dane.test TLSA" "wrong.dane.test MX" \
    "_25._tcp.mx-wrong.dane.test TLSA"; do
    # shellcheck disable=SC2086  # NAME TYPE
    mxw_dane_secure "$resolver" $q ||
        fail "no validated answer for $q: $(dig @127.0.0.10 +dnssec +time=2 +tries=1 $q 2>&1)"
done
# A name outside the test zone gets nowhere: no query may leave for the root servers.
out=$(dig @127.0.0.10 +time=2 +tries=1 example.com A 2>&1) || true
grep -q 'status: REFUSED' <<<"$out" || fail "unbound did not refuse example.com: $out"
if ((failures)); then
    cat "$MXW_UNBOUND_LOG" >&2
    exit 1
fi

mxw_start_tls_peer "$work/peer" "$peer_addr" mx.dane.test "$work/tls/mx.dane.test.crt" \
    "$work/tls/mx.dane.test.key" 127.0.0.10

# --- the sending Postfix: stock, DANE by DNSSEC ------------------------------------------------------------------
pf=$work/pf
mxw_postfix_create "$pf" "$smtpd_port"
mxw_postfix_conf "$pf" "smtp_dns_support_level = dnssec" "smtp_tls_security_level = dane" \
    "smtp_tls_loglevel = 1" "smtpd_peername_lookup = no"
mxw_postfix_start "$pf" 127.0.0.10

# send NAME RCPT SUBJECT: the message, accepted by the sending Postfix.
send() {
    case_name=$1
    transcript=$(mxw_swaks_message sender@mxw.test "$2" "$smtpd_port" 127.0.0.1 "$3")
    grep -Eq '^ *<- +250 .*queued' <<<"$transcript" || fail "message to $2 not accepted: $transcript"
}
# show_logs: both Postfix logs and the resolver's, after a failure.
show_logs() {
    echo "--- sending Postfix ---" >&2
    mxw_postfix_log "$pf" >&2
    echo "--- peer ---" >&2
    mxw_postfix_log "$work/peer" >&2
    echo "--- unbound ---" >&2
    cat "$MXW_UNBOUND_LOG" >&2
}

# --- the matching TLSA record: delivered over a DANE-verified connection -----------------------------------------
send dane-match user@dane.test "dane match"
if mxw_wait_log 20 "$pf/maillog" 'to=<user@dane\.test>.* status=sent'; then
    grep -E 'to=<user@dane\.test>.* status=sent' "$pf/maillog"
    grep -Eq "Verified TLS connection established to mx\.dane\.test\[$peer_addr\]:25" "$pf/maillog" ||
        fail "no verified TLS connection to mx.dane.test in the sending Postfix's log"
    grep -Eq "to=<user@dane\.test>, relay=mx\.dane\.test\[$peer_addr\]:25,.* status=sent \(250 " "$pf/maillog" ||
        fail "the message did not go to mx.dane.test[$peer_addr]:25"
    mxw_wait_log 10 "$work/peer/maillog" 'postfix/discard\[[0-9]+\]: [0-9A-F]+: to=<user@dane\.test>, .* status=sent' ||
        fail "the peer did not take the message"
else
    fail "the message to user@dane.test was not sent"
fi
grep -E 'TLS connection established to mx\.dane\.test' "$pf/maillog" || true
((case_failures == 0)) || show_logs

# --- a TLSA digest that matches nothing: deferred, never sent unverified ----------------------------------------
send dane-mismatch user@wrong.dane.test "dane mismatch"
if mxw_wait_log 20 "$pf/maillog" 'to=<user@wrong\.dane\.test>.* status=deferred'; then
    grep -E 'to=<user@wrong\.dane\.test>.* status=deferred' "$pf/maillog"
    grep -Eq 'to=<user@wrong\.dane\.test>.* status=deferred \(Server certificate not verified\)' "$pf/maillog" ||
        fail "deferred for another reason than an unverified certificate"
    # OpenSSL's DANE check, not some other verification, refused the certificate.
    grep -Eq "certificate verification failed for mx-wrong\.dane\.test\[$peer_addr\]:25: .*no matching DANE TLSA" \
        "$pf/maillog" || fail "no DANE mismatch logged for mx-wrong.dane.test"
else
    fail "the message to user@wrong.dane.test was not deferred"
fi
! grep -Eq 'to=<user@wrong\.dane\.test>.* status=sent' "$pf/maillog" || fail "sent despite the wrong TLSA record"
((case_failures == 0)) || show_logs

# --- mxwardend as the DNS reply filter: the silent MX dropped, DANE untouched ------------------------------------
case_name=dns-filter
mxw_start_smtp_peers "$work/peers.log" "$silent_addr:25=silent"
mxw_start_daemon "$work/state" "$work/mxwardend.log" --listen.socketmap="inet:127.0.0.1:$smap_port" \
    --dns.forwarders="$resolver" --routing.deny-addresses=0.0.0.0/8 --routing.steer=dns-filter \
    --probe.banner-timeout=2s --probe.connect-timeout=2s
filter_map="socketmap:inet:127.0.0.1:$smap_port:dnsfilter"
# The first question about filter.dane.test starts its probes; the silent host is dead once they end.
postmap -c "$pf/etc" -q "filter.dane.test. 300 IN MX 10 mx-silent.dane.test." "$filter_map" >/dev/null || true
silent_dead() { mxw_cli route filter.dane.test --json | grep -q "\"address\":\"$silent_addr\"[^}]*\"health\":\"dead\""; }
mxw_poll 10 silent_dead || fail "mx-silent.dane.test not found dead: $(mxw_cli route filter.dane.test)"
mxw_postfix_conf "$pf" "smtp_dns_reply_filter = $filter_map"
mxw_postfix_restart "$pf" 127.0.0.10

start=$(date +%s)
send filter-match user@filter.dane.test "dane behind the filter"
if mxw_wait_log 20 "$pf/maillog" 'to=<user@filter\.dane\.test>.* status=sent'; then
    grep -E 'to=<user@filter\.dane\.test>.* status=sent' "$pf/maillog"
    (($(date +%s) - start < 10)) || fail "took $(($(date +%s) - start)) s: the silent MX was tried"
    grep -Eq "ignoring DNS RR: filter\.dane\.test\. [0-9]+ IN MX 10 mx-silent\.dane\.test\." "$pf/maillog" ||
        fail "Postfix did not drop the silent MX's record"
    grep -Eq "to=<user@filter\.dane\.test>, relay=mx\.dane\.test\[$peer_addr\]:25,.* status=sent \(250 " \
        "$pf/maillog" || fail "the message did not go to mx.dane.test"
    # Two verified connections to the peer now: the first message's and this one's.
    (($(grep -c "Verified TLS connection established to mx\.dane\.test\[$peer_addr\]:25" "$pf/maillog") >= 2)) ||
        fail "the connection through the filter was not verified by DANE"
else
    fail "the message to user@filter.dane.test was not sent"
fi
send filter-mismatch user2@wrong.dane.test "dane mismatch behind the filter"
mxw_wait_log 20 "$pf/maillog" 'to=<user2@wrong\.dane\.test>.* status=deferred \(Server certificate not verified\)' ||
    fail "the wrong TLSA record no longer defers the message behind the filter"
((case_failures == 0)) || { show_logs; cat "$work/mxwardend.log" >&2; }

mxw_finish
