#!/bin/bash
# routing.steer = dns-filter with TLS at `verify`, against a real Postfix 3.7: Postfix routes by the recipient
# domain and does its own MX and address lookups, mxwardend answers its smtp_dns_reply_filter (the dnsfilter
# socketmap) and removes the records of hosts it knows to be dead. tls.mxw.test has a silent first MX
# (mx-tls-silent, 127.0.0.46) and a second one (mx-tls, 127.0.0.47) offering STARTTLS with a certificate from a
# throwaway test CA for mx-tls.mxw.test. Shown:
#   - the map as Postfix's own client reads it: a dead MX host's record IGNOREd, the last usable records, TLSA
#     records and unknown names kept (NOTFOUND), never a TEMP;
#   - a message to tls.mxw.test goes straight to mx-tls, verified by name ("Verified TLS connection established");
#   - tls-wrong.mxw.test, whose only MX is the same peer under a name its certificate lacks, is deferred
#     ("Server certificate not verified"): the certificate check is Postfix's own and untouched;
#   - with mxwardend stopped, Postfix defers (the reply filter fails closed), and delivers once it is back.
# Fixed addresses 127.0.0.10:53 (Postfix's resolver), 127.0.0.46:25 and 127.0.0.47:25: runs alone.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/postfix.sh
source "$here/lib/postfix.sh"
# shellcheck source=lib/daemon.sh
source "$here/lib/daemon.sh"
# shellcheck source=lib/tls.sh
source "$here/lib/tls.sh"
mxw_begin dnsfilter_test

pf=$work/pf
read -r smtpd_port smap_port policy_port ns_port < <(mxw_free_port 4)
mxw_tls_ca "$work/ca"
pem=$(mxw_tls_leaf "$work/ca" mx-tls.mxw.test)

mxw_start_nsd "$work/nsd" "$ns_port" 127.0.0.10@53
mxw_start_smtp_peers "$work/peers.log" 127.0.0.46:25=silent "127.0.0.47:25=starttls:$pem"

start_mxwarden() {
    mxw_start_daemon "$work/state" "$work/mxwardend.log" --listen.policy="inet:127.0.0.1:$policy_port" \
        --listen.socketmap="inet:127.0.0.1:$smap_port" --dns.forwarders="127.0.0.1@$ns_port" \
        --routing.deny-addresses=0.0.0.0/8 --probe.banner-timeout=2s --probe.connect-timeout=2s \
        --routing.steer=dns-filter
}
start_mxwarden

map="socketmap:inet:127.0.0.1:$smap_port:dnsfilter"
mxw_postfix_create "$pf" "$smtpd_port"
# A 20 s greeting timeout: a message that met the silent host would show it.
mxw_postfix_conf "$pf" "smtp_helo_timeout = 20s" "smtp_connect_timeout = 5s" \
    "smtp_tls_security_level = verify" "smtp_tls_CAfile = $work/ca/ca.crt" "smtp_tls_loglevel = 1" \
    "smtp_dns_reply_filter = $map"
mxw_postfix_start "$pf" 127.0.0.10

# q KEY: the dnsfilter answer for one resource record, as Postfix's client reads it ("" = NOTFOUND).
q() { postmap -c "$pf/etc" -q "$1" "$map"; }
silent_mx='tls.mxw.test. 300 IN MX 10 mx-tls-silent.mxw.test.'
tls_mx='tls.mxw.test. 300 IN MX 20 mx-tls.mxw.test.'

# The first question about tls.mxw.test starts its resolution and probes; until the probes end nothing is removed.
answer=$(q "$silent_mx" || true)
[[ -z $answer ]] || fail "an MX host not yet probed must be kept, got '$answer'"
silent_dead() { mxw_cli route tls.mxw.test --json | grep -q '"address":"127.0.0.46"[^}]*"health":"dead"'; }
mxw_poll 10 silent_dead || fail "mx-tls-silent was not found dead: $(mxw_cli route tls.mxw.test)"
echo "mxwarden route tls.mxw.test:"
mxw_cli route tls.mxw.test | sed 's/^/  /'

answer=$(q "$silent_mx" || true)
[[ $answer == IGNORE ]] || fail "the dead MX host's record: want IGNORE, got '$answer'"
for key in "$tls_mx" 'mx-tls.mxw.test. 300 IN A 127.0.0.47' \
    'mx-tls-silent.mxw.test. 300 IN A 127.0.0.46' \
    '_25._tcp.mx-tls.mxw.test. 300 IN TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef' \
    'unknown.example. 300 IN MX 10 mx.unknown.example.'; do
    rc=0
    answer=$(q "$key") || rc=$?
    # postmap: 0 found, 1 not found; anything else is a lookup error, which Postfix would turn into a deferral.
    ((rc == 1)) || fail "'$key': want NOTFOUND, got '$answer' (postmap exit $rc)"
done

# sent_within SECONDS SUBJECT RCPT: submits one message and waits until Postfix logs it as sent.
submit() { printf 'Subject: %s\n\ndns-filter\n' "$1" | sendmail -C "$pf/etc" -f sender@mxw.test "$2"; }

start=$(date +%s.%N)
submit tls-1 user@tls.mxw.test
mxw_wait_log 15 "$pf/maillog" 'to=<user@tls\.mxw\.test>.*status=sent' ||
    fail "user@tls.mxw.test was not delivered: $(tail -n 20 "$pf/maillog")"
took=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
echo "tls.mxw.test: delivered in $took s"
awk -v t="$took" 'BEGIN { exit !(t < 5) }' || fail "delivery took $took s: the silent MX was tried"
grep -q 'Verified TLS connection established to mx-tls\.mxw\.test\[127\.0\.0\.47\]:25' "$pf/maillog" ||
    fail "Postfix did not verify mx-tls.mxw.test by name"
grep -q 'ignoring DNS RR: tls\.mxw\.test\. [0-9]* IN MX 10 mx-tls-silent\.mxw\.test\.' "$pf/maillog" ||
    fail "Postfix did not log the removed MX record"
grep -q '127\.0\.0\.46' <(grep 'postfix/smtp\[' "$pf/maillog") && fail "Postfix connected to the silent MX"

submit wrong-1 user@tls-wrong.mxw.test
mxw_wait_log 15 "$pf/maillog" 'to=<user@tls-wrong\.mxw\.test>.*status=deferred' ||
    fail "user@tls-wrong.mxw.test was not deferred: $(tail -n 20 "$pf/maillog")"
grep 'to=<user@tls-wrong\.mxw\.test>' "$pf/maillog" | grep -q 'Server certificate not verified' ||
    fail "tls-wrong: not deferred for the certificate: $(grep 'tls-wrong' "$pf/maillog")"

# mxwardend down: the reply filter's lookup fails and Postfix defers rather than deliver unfiltered.
mxw_stop_daemon
submit tls-2 user2@tls.mxw.test
mxw_wait_log 15 "$pf/maillog" 'to=<user2@tls\.mxw\.test>.*status=deferred' ||
    fail "with mxwardend down the message was not deferred: $(tail -n 20 "$pf/maillog")"
grep 'to=<user2@tls\.mxw\.test>.*status=deferred' "$pf/maillog" | head -n 1 | sed 's/^/  mxwardend down: /'
start_mxwarden
postqueue -c "$pf/etc" -f
mxw_wait_log 30 "$pf/maillog" 'to=<user2@tls\.mxw\.test>.*status=sent' ||
    fail "after mxwardend came back the message was not delivered"
mxw_finish
