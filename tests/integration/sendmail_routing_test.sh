#!/bin/bash
# Sendmail with mxwarden's routing: FEATURE(mailertable) through the socket map, and the mxq prog mailer of the
# README. smroute.mxw.test's first MX accepts TCP and never greets (seed 004); the mailertable answer names only
# the healthy second one, so Sendmail delivers there at once. A null-MX recipient domain, with
# routing.null-mx = quarantine, is answered mxq:null-mx and the mxq mailer lands the message in the quarantine.
#
#   swaks --> sendmail -bD 127.0.0.1:P --mailertable (socket map)--> mxwardend --> nsd 127.0.0.1@N
#                |--> esmtp [127.0.0.31]:25 smtp-sink (mx-sm)      127.0.0.32:25 silent (mx-sm-silent)
#                +--> mxq: mxwarden quarantine ingest (as mxwtest-q)
# Addresses 127.0.0.31/.32 are this test's own; ports are free-picked.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/daemon.sh
source "$here/lib/daemon.sh"
# shellcheck source=lib/dns.sh
source "$here/lib/dns.sh"
# shellcheck source=lib/smtp.sh
source "$here/lib/smtp.sh"
# shellcheck source=lib/sendmail.sh
source "$here/lib/sendmail.sh"
mxw_begin sendmail_routing_test
qa_user=$MXW_QA_USER

read -r smtp_port smap_port policy_port ns_port < <(mxw_free_port 4)
mxw_start_nsd "$work/nsd" "$ns_port"
state=$work/state
mxw_qa_state_dir "$state"
mxw_start_daemon "$state" "$work/mxwardend.log" --dns.forwarders="127.0.0.1@$ns_port" \
    --listen.policy="inet:127.0.0.1:$policy_port" --listen.socketmap="inet:127.0.0.1:$smap_port" \
    --routing.deny-addresses=0.0.0.0/8 --routing.null-mx=quarantine --routing.answer-budget=1s \
    --probe.banner-timeout=2s --probe.connect-timeout=2s
mxw_start_smtp_peers "$work/peers.log" 127.0.0.32:25=silent
mxw_start_sink "$work/sink" 127.0.0.31:25 nobody

# The README's lines: the mailertable through the socket map, and the mxq prog mailer.
mxw_sendmail_start "$work/sm" "$smtp_port" "FEATURE(\`mailertable', \`socket -d5 inet:$smap_port@127.0.0.1')dnl
MAILER(\`local')dnl
MAILER(\`smtp')dnl
MAILER_DEFINITIONS
Mmxq, P=$MXW_BUILD/mxwarden, F=msDFMq, U=$qa_user:$qa_user, S=EnvFromSMTP, R=EnvToSMTP,
	A=mxwarden --daemon.state-dir=$state quarantine ingest --reason \$h --queue-id \$i -f \$g -- \$u"

send() {  # send RCPT SUBJECT
    mxw_swaks_message a@good.mxw.test "$1" "$smtp_port" 127.0.0.20 "$2" --body sendmail-routing
}
start=$SECONDS
t=$(send user@smroute.mxw.test sm-route-1)
grep -qE '<- +250 .*(queued|accepted)' <<<"$t" || fail "Sendmail did not accept the message: $t"
delivered=$(mxw_sink_file "$work/sink" sm-route-1 10 || true)
echo "smroute.mxw.test (first MX silent): delivered to 127.0.0.31 in $((SECONDS - start)) s"
[[ -n $delivered ]] || fail "the message did not reach the healthy MX; sendmail log: $(tail -5 "$work/sm/sendmail.log")"
answer=$(grep -m1 'route map=mailertable key=smroute.mxw.test ' "$work/mxwardend.log" || true)
echo "  $answer"
# The healthy MX first; the silent one may follow while its probe (2 s) is still running.
[[ $answer == *'answer=esmtp:[127.0.0.31]'* ]] ||
    fail "want the mailertable answer to start with the healthy esmtp:[127.0.0.31], got: $answer"
grep -q 'peers.*message from' "$work/peers.log" && fail "the silent MX got a message"

t=$(send user@nullmx.mxw.test sm-nullmx-1)
grep -qE '<- +250 .*(queued|accepted)' <<<"$t" || fail "Sendmail did not accept the null-MX message: $t"
list=""
listed() { list=$("$MXW_BUILD/mxwarden" --daemon.state-dir="$state" quarantine list 2>/dev/null || true) && [[ $list == *sm-nullmx-1* ]]; }
mxw_poll 10 listed || true  # judged below
echo "nullmx.mxw.test (routing.null-mx = quarantine): mxwarden quarantine list"
printf '%s\n' "$list" | sed 's/^/  /'
[[ $list == *"null-mx "*"a@good.mxw.test"*"user@nullmx.mxw.test"*"sm-nullmx-1"* ]] ||
    fail "the mxq mailer did not land the message in the quarantine with reason null-mx"
grep -q 'answer="mxq:null-mx"\|answer=mxq:null-mx' "$work/mxwardend.log" || fail "no mxq:null-mx answer logged"

mxw_finish
