#!/bin/bash
# Seed 003: mxwardend as the policy service of a real Postfix, driven over SMTP with swaks.
#
#   swaks from 127.0.0.2x --> Postfix smtpd --check_policy_service--> mxwardend --> faultdns --> nsd 127.0.0.1@P
#                                 |  own client-name lookups                            (servfail.mxw.test fails)
#                                 +--> nsd 127.0.0.10@53
#   Postfix smtp --> smtp-sink 127.0.0.2:25 (mx1.mxw.test), which dumps what it receives
#
# Fixed addresses 127.0.0.10:53 and 127.0.0.2:25: never run two of these at once. Needs root, postfix, swaks, nsd,
# smtp-sink and Debian's /usr/bin/python3 with dnslib. Everything listens on 127.0.0.0/8.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/postfix.sh
source "$here/lib/postfix.sh"
# shellcheck source=lib/daemon.sh
source "$here/lib/daemon.sh"

mxw_begin postfix_policy_test
pf=$work/pf
sink_dir=$work/sink

daemon_log=$work/mxwardend.log
read -r smtpd_port policy_port ns_port fd_port < <(mxw_free_port 4)

# What a case's logs say is read from the marks taken when the case started.
mark_logs() {
    daemon_mark=$(($(wc -c <"$daemon_log") + 1))
    maillog_mark=$(($(wc -c <"$pf/maillog" 2>/dev/null || echo 0) + 1))
}
daemon_since() { tail -c +"$daemon_mark" "$daemon_log"; }
maillog_since() { tail -c +"$maillog_mark" "$pf/maillog" 2>/dev/null || true; }
# maillog_shows REGEX: postlogd writes the maillog asynchronously, so a line may land a moment after the SMTP reply
# (or, for a delivery, after smtp-sink has the message). Waits up to 5 s.
_maillog_has() { maillog_since | grep -E -- "$1" >/dev/null; }
maillog_shows() { mxw_poll 5 _maillog_has "$1"; }

# fail MESSAGE: count a failure; the first one of a case also shows what the daemon and Postfix logged meanwhile.
context_shown=
fail() {
    mxw_fail "$@"
    [[ $context_shown != "$case_name" ]] || return 0
    context_shown=$case_name
    {
        echo "--- mxwardend log during $case_name ---"
        daemon_since
        echo "--- maillog during $case_name ---"
        maillog_since
        echo "---"
    } >&2
}

# smtp_case NAME CLIENT_IP SENDER REPLY_REGEX: one session from CLIENT_IP up to RCPT TO:<user@good.mxw.test>,
# whose RCPT reply must match REPLY_REGEX. Leaves the transcript in $transcript and the RCPT reply in $reply.
smtp_case() {
    case_name=$1
    local client=$2 sender=$3 pattern=$4
    mark_logs
    transcript=$(mxw_swaks "$sender" user@good.mxw.test "$smtpd_port" "$client")
    reply=$(mxw_smtp_reply "$transcript" "RCPT TO")
    printf '%s: client %s, MAIL FROM:<%s> RCPT TO:<user@good.mxw.test> -> %s\n' "$case_name" "$client" "${sender#<>}" \
        "${reply:-(no RCPT reply)}"
    mxw_expect_reply "$transcript" "$pattern" "$case_name" || fail "RCPT reply does not match /$pattern/"
}

# want_decision FIELD_REGEX...: this case's policy request produced one decision line matching every regex (a
# decision whose DNS lookups failed is logged as "warning: decision ..."). The
# line is found by the case's marks, not by queue ID: at RCPT, Postfix has not yet opened a queue file (the default
# smtpd_delay_open_until_valid_rcpt = yes), so the request's queue_id is empty.
want_decision() {
    local line
    line=$(daemon_since | grep -E '^(warning: )?decision ' | sed 's/^warning: //' || true)
    if [[ $(grep -c . <<<"$line") -ne 1 ]]; then
        fail "want exactly one decision line for this case, got: ${line:-none}"
        return
    fi
    local re
    for re in "$@"; do
        grep -Eq -- "$re" <<<"$line" || fail "decision line does not match /$re/: $line"
    done
}

mxw_start_nsd "$work/nsd" "$ns_port" 127.0.0.10@53
mxw_start_faultdns "$work" "$fd_port" "$ns_port"
echo "fixtures: nsd 127.0.0.1@$ns_port and 127.0.0.10@53, faultdns $fd_port, policy $policy_port, smtpd $smtpd_port"

start_daemon() {
    mxw_start_daemon "$work/state" "$daemon_log" --listen.policy="inet:127.0.0.1:$policy_port" \
        --dns.forwarders="127.0.0.1@$fd_port" "$@"
}
start_daemon

mxw_start_sink "$sink_dir" 127.0.0.2:25

mxw_postfix_create "$pf" "$smtpd_port"
# The line an admin would use: the policy service first, so no earlier permit skips it; fail open if the daemon
# is unreachable. good.mxw.test (a subdomain) is a relay domain, so accepted mail is delivered via its MX.
mxw_postfix_conf "$pf" \
    "smtpd_recipient_restrictions = check_policy_service { inet:127.0.0.1:$policy_port, timeout=10s, default_action=DUNNO }, permit_mynetworks, reject_unauth_destination" \
    "relay_domains = mxw.test, .mxw.test" \
    "smtpd_peername_lookup = yes"
mxw_postfix_start "$pf" 127.0.0.10

# a. Forward-confirmed client, deliverable sender domain: nothing to say.
smtp_case a-clean 127.0.0.20 a@good.mxw.test '^250 '
want_decision ' state=RCPT ' ' client=127\.0\.0\.20 ' ' sender=a@good\.mxw\.test ' ' action=ignore ' ' reply=DUNNO'

# b. RFC 7505 null MX: the domain says it never sends mail, so no bounce could ever reach it.
smtp_case b-null-mx 127.0.0.20 b@nullmx.mxw.test '^550 5\.7\.27 '
want_decision ' sender=b@nullmx\.mxw\.test ' ' result=null-mx ' ' action=reject '

# c. NXDOMAIN sender domain. The daemon answers 450 4.1.8 (bad sender's system address), but a policy service in
# smtpd_recipient_restrictions speaks about the recipient, so Postfix rewrites sender-class 4.1.8 into
# recipient-class 4.1.2 "Recipient address rejected". Admins who want 4.1.8 on the wire put the service in
# smtpd_sender_restrictions instead.
smtp_case c-nxdomain 127.0.0.20 c@nonexist.mxw.test '^450 4\.1\.2 .*Recipient address rejected'
want_decision ' sender=c@nonexist\.mxw\.test ' ' result=no-domain ' ' action=defer ' ' reply="450 4\.1\.8 '
maillog_shows 'mapping DSN status 4\.1\.8 into Recipient address status 4\.1\.2' ||
    fail "the maillog does not show Postfix mapping 4.1.8 to 4.1.2"

# d. The name exists but has no MX, A or AAAA: mail to it could not be delivered either (same rewrite as c).
smtp_case d-nodata 127.0.0.20 d@nomail.mxw.test '^450 4\.1\.2 '
want_decision ' sender=d@nomail\.mxw\.test ' ' result=no-domain ' ' action=defer '

# e. The sender domain's servers fail: try again later, the code passes through unchanged.
smtp_case e-servfail 127.0.0.20 e@y.servfail.mxw.test '^451 4\.4\.3 '
want_decision ' sender=e@y\.servfail\.mxw\.test ' ' result=tempfail ' ' action=defer '
daemon_since | grep -q '^warning: decision .* sender=e@y\.servfail\.mxw\.test ' ||
    fail "a decision with failed DNS is not logged as a warning"

# f. Bounces (null sender) are never refused for the sender check: there is no sender domain.
smtp_case f-null-sender 127.0.0.20 '<>' '^250 '
grep -q -- '-> MAIL FROM:<>' <<<"$transcript" || fail "swaks did not send MAIL FROM:<>"
want_decision ' client=127\.0\.0\.20 ' ' sender="" ' ' action=ignore '
daemon_since | grep -E "check=sender|sender_result=" >/dev/null && fail "the null sender was checked"

# g. PTR name that does not resolve back to the client: accepted, but tagged with a header.
smtp_case g-not-confirmed 127.0.0.21 g@good.mxw.test '^250 '
want_decision ' client=127\.0\.0\.21 ' ' check=client ' ' result=not-confirmed ' ' action=tag ' \
    ' reply="PREPEND X-Mxwarden: client=not-confirmed 127\.0\.0\.21"'
# The same client, a whole message this time: Postfix relays it to good.mxw.test's MX (smtp-sink), whose dump
# must show the header the daemon asked Postfix to prepend.
case_name="g-delivered"
mark_logs
transcript=$(mxw_swaks_message g@good.mxw.test user@good.mxw.test "$smtpd_port" 127.0.0.21 "mxwarden case g")
data_reply=$(grep -E '^ *<- +250 .*queued as' <<<"$transcript" || true)
echo "$case_name: client 127.0.0.21, full message -> ${data_reply:-no 250 after DATA}"
if [[ -z $data_reply ]]; then
    fail "message not accepted: $transcript"
else
    if ! delivered=$(mxw_sink_file "$sink_dir" "mxwarden case g"); then
        fail "smtp-sink received nothing within 15 s; queue: $(postqueue -c "$pf/etc" -p 2>&1)"
    else
        headers=$(grep -c '^X-Mxwarden: ' "$delivered" || true)
        echo "$case_name: delivered to smtp-sink: $(grep '^X-Mxwarden: ' "$delivered" || echo 'no X-Mxwarden header')"
        grep -q '^X-Mxwarden: client=not-confirmed 127\.0\.0\.21$' "$delivered" ||
            fail "the delivered message lacks 'X-Mxwarden: client=not-confirmed 127.0.0.21': $(cat "$delivered")"
        ((headers == 1)) || fail "want one X-Mxwarden header, the message has $headers"
        maillog_shows 'relay=mx1\.mxw\.test\[127\.0\.0\.2\]:25,.* status=sent' ||
            fail "the maillog does not show the delivery to mx1.mxw.test[127.0.0.2]:25"
    fi
fi

# h. No PTR at all, with the daemon told to refuse such clients.
case_name="h-restart"
mxw_stop_daemon || fail "mxwardend did not stop cleanly"
start_daemon --client.no-ptr=reject
smtp_case h-no-ptr-reject 127.0.0.22 h@good.mxw.test '^550 5\.7\.25 '
want_decision ' client=127\.0\.0\.22 ' ' check=client ' ' result=no-ptr ' ' action=reject '

# i. Daemon down: default_action=DUNNO makes Postfix carry on without it (fail open) instead of answering
# 451 4.3.5 to every recipient. The null-MX sender would be refused by a running daemon, so the 250 shows that
# the daemon really was not asked.
case_name="i-stop"
mxw_stop_daemon || fail "mxwardend did not stop cleanly"
smtp_case i-daemon-down 127.0.0.20 i@nullmx.mxw.test '^250 '
maillog_shows "warning: problem talking to server 127\.0\.0\.1:$policy_port" ||
    fail "the maillog does not show the failed policy service"

mxw_finish
