#!/bin/bash
# mxwarden-milter behind a real Postfix (smtpd_milters), driven over SMTP with swaks: the verdicts of
# postfix_policy_test.sh for the same test zones, now given by the milter, plus quarantine capture.
#
#   swaks from 127.0.0.2x --> Postfix smtpd --milter--> mxwarden-milter --policy--> mxwardend --> faultdns --> nsd
#   Postfix smtp --transport_maps inline--> smtp-sink 127.0.0.1:S, which dumps what it receives
#
# Postfix itself does no DNS here (smtpd_peername_lookup = no, bracketed next hop): the daemon's own lookups
# decide, so nothing needs the fixed 127.0.0.10:53 and this test may run beside the others. The milter rejects at
# MAIL FROM, where Postfix passes its reply through unchanged (the policy service in smtpd_recipient_restrictions
# has 4.1.8 rewritten to 4.1.2). Needs root, postfix, swaks, nsd, smtp-sink, Debian's python3 with dnslib.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/postfix.sh
source "$here/lib/postfix.sh"
# shellcheck source=lib/daemon.sh
source "$here/lib/daemon.sh"

mxw_begin milter_postfix_test
pf=$work/pf
sink_dir=$work/sink

read -r smtpd_port policy_port ns_port fd_port milter_port sink_port < <(mxw_free_port 6)
mxw_start_nsd "$work/nsd" "$ns_port"
mxw_start_faultdns "$work" "$fd_port" "$ns_port"
state=$work/state
mxw_start_daemon "$state" "$work/mxwardend.log" --listen.policy="inet:127.0.0.1:$policy_port" \
    --dns.forwarders="127.0.0.1@$fd_port" --client.no-ptr=quarantine --listen.metrics=

mxw_start_milter "$work/milter.log" --listen "inet:$milter_port@127.0.0.1" --policy "inet:127.0.0.1:$policy_port" \
    --quarantine-db "$state/quarantine.db"

mxw_start_sink "$sink_dir" "127.0.0.1:$sink_port"

mxw_postfix_create "$pf" "$smtpd_port"
# The line the README recommends for Postfix.
mxw_postfix_conf "$pf" \
    "smtpd_milters = { inet:127.0.0.1:$milter_port, default_action=accept, command_timeout=20s }" \
    "relay_domains = mxw.test, .mxw.test" \
    "smtpd_peername_lookup = no" \
    "transport_maps = inline:{good.mxw.test=smtp:[127.0.0.1]:$sink_port}"
# Nothing answers DNS on 127.0.0.1:53: Postfix is meant to make no lookups at all.
mxw_postfix_start "$pf" 127.0.0.1
echo "fixtures: nsd $ns_port, faultdns $fd_port, mxwardend $policy_port, milter $milter_port, smtpd $smtpd_port, sink $sink_port"

# smtp_case NAME CLIENT_IP SENDER CMD REPLY_REGEX, send_message NAME CLIENT_IP SENDER SUBJECT: see lib/smtp.sh.
smtp_case() { mxw_smtp_case "$1" "$smtpd_port" "${@:2}"; }
send_message() { mxw_send_message "$1" "$smtpd_port" "${@:2}"; }
# sink_file SUBJECT: the smtp-sink dump holding SUBJECT, waiting up to 15 s.
sink_file() { mxw_sink_file "$sink_dir" "$1"; }

smtp_case a-clean 127.0.0.20 a@good.mxw.test "RCPT TO" '^250 '
smtp_case b-null-mx 127.0.0.20 b@nullmx.mxw.test "MAIL FROM" \
    '^550 5\.7\.27 sender domain nullmx\.mxw\.test does not accept mail \(null MX, RFC 7505\)'
smtp_case c-nxdomain 127.0.0.20 c@nonexist.mxw.test "MAIL FROM" '^450 4\.1\.8 sender domain nonexist\.mxw\.test '
smtp_case d-nodata 127.0.0.20 d@nomail.mxw.test "MAIL FROM" '^450 4\.1\.8 '
smtp_case e-servfail 127.0.0.20 e@y.servfail.mxw.test "MAIL FROM" '^451 4\.4\.3 '
smtp_case f-null-sender 127.0.0.20 '<>' "RCPT TO" '^250 '

# g. PTR that does not resolve back: delivered, with one X-Mxwarden header added by the milter.
send_message g-not-confirmed 127.0.0.21 g@good.mxw.test "mxwarden milter case g"
if [[ -n $data_reply ]]; then
    if delivered=$(sink_file "mxwarden milter case g"); then
        echo "$case_name: delivered to smtp-sink: $(grep '^X-Mxwarden: ' "$delivered" || echo 'no X-Mxwarden header')"
        grep -q '^X-Mxwarden: client=not-confirmed 127\.0\.0\.21' "$delivered" ||
            fail "the delivered message lacks the header: $(cat "$delivered")"
        (($(grep -c '^X-Mxwarden: ' "$delivered") == 1)) || fail "want exactly one X-Mxwarden header"
    else
        fail "smtp-sink received nothing; queue: $(postqueue -c "$pf/etc" -p 2>&1)"
    fi
fi

# h. No PTR, quarantine: Postfix says 250 (the milter discards), the store holds the message, nothing delivered.
send_message h-no-ptr-quarantine 127.0.0.22 h@good.mxw.test "mxwarden milter case h"
if [[ -n $data_reply ]]; then
    grep -q '^quarantined .* reason=client-no-ptr ' "$work/milter.log" || fail "the milter logged no quarantine"
    list=$(mxw_cli quarantine list --json)
    echo "$case_name: quarantine: $list"
    grep -Eq '"subject": ?"mxwarden milter case h"' <<<"$list" || fail "not in the quarantine: $list"
    grep -Eq '"sender": ?"h@good\.mxw\.test"' <<<"$list" || fail "wrong sender in the quarantine: $list"
    id=$(grep -oE '"id": ?[0-9]+' <<<"$list" | head -n 1 | grep -oE '[0-9]+$' || true)
    msg=$(mxw_cli quarantine cat "${id:-0}" || true)
    # The copy is the message as the client sent it (Postfix shows milters no Received header of its own).
    grep -q '^From: h@good.mxw.test' <<<"$msg" || fail "stored message lacks its From header: $msg"
    grep -q 'This is a test mailing' <<<"$msg" || fail "stored message lacks the body: $msg"
    mxw_wait_log 5 "$pf/maillog" 'milter triggers DISCARD action' || fail "Postfix did not log the milter's DISCARD"
    sleep 1
    ! grep -lq 'Subject: mxwarden milter case h' "$sink_dir"/* 2>/dev/null || fail "the quarantined message was delivered"
fi

# i. Daemon down: the milter's on-error accept lets the null MX sender through, and says why in its log.
case_name=i-daemon-down
mxw_stop_daemon || fail "mxwardend did not stop cleanly"
smtp_case i-daemon-down 127.0.0.20 i@nullmx.mxw.test "RCPT TO" '^250 '
grep -q '^policy-error .* on_error=accept ' "$work/milter.log" || fail "the milter logged no policy error"

mxw_finish
