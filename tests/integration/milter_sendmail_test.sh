#!/bin/bash
# mxwarden-milter behind a real Sendmail 8.17, driven over SMTP with swaks: the verdicts of postfix_policy_test.sh
# for the same test zones, given by the milter through INPUT_MAIL_FILTER, plus quarantine capture. Sendmail puts
# "<address>... " before the text of a MAIL FROM reply; the codes and the daemon's text are the same.
#
#   swaks from 127.0.0.2x --> sendmail -bD 127.0.0.1:P --milter--> mxwarden-milter --policy--> mxwardend --> nsd
#   sendmail esmtp (SMART_HOST) --> smtp-sink 127.0.0.1:S, which dumps what it receives
#
# Sendmail runs privately from Debian's packages unpacked into the build tree (lib/sendmail.sh); the daemon's own
# lookups decide. Needs root, network access to the Debian mirror on the first run, swaks, nsd, smtp-sink,
# Debian's python3 with dnslib.
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
mxw_begin milter_sendmail_test
sink_dir=$work/sink

read -r smtp_port policy_port ns_port fd_port milter_port sink_port < <(mxw_free_port 6)
mxw_start_nsd "$work/nsd" "$ns_port"
mxw_start_faultdns "$work" "$fd_port" "$ns_port"
state=$work/state
mxw_start_daemon "$state" "$work/mxwardend.log" --listen.policy="inet:127.0.0.1:$policy_port" \
    --dns.forwarders="127.0.0.1@$fd_port" --client.no-ptr=quarantine --listen.metrics=

mxw_start_milter "$work/milter.log" --listen "inet:$milter_port@127.0.0.1" --policy "inet:127.0.0.1:$policy_port" \
    --quarantine-db "$state/quarantine.db"

mxw_start_sink "$sink_dir" "127.0.0.1:$sink_port" nobody

# The configuration: the README's INPUT_MAIL_FILTER line; mail for mxw.test relayed to smtp-sink.
mxw_sendmail_start "$work/sm" "$smtp_port" "define(\`SMART_HOST', \`esmtp:[127.0.0.1]')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h $sink_port')dnl
INPUT_MAIL_FILTER(\`mxwarden', \`S=inet:$milter_port@127.0.0.1, F=T, T=C:10s;S:10s;R:30s;E:5m')dnl
MAILER(\`local')dnl
MAILER(\`smtp')dnl"
echo "fixtures: nsd $ns_port, faultdns $fd_port, mxwardend $policy_port, milter $milter_port, sendmail $smtp_port, sink $sink_port"
echo "sendmail: $(head -n 1 "$work/sm/sendmail.log")"

# smtp_case NAME CLIENT_IP SENDER CMD REPLY_REGEX, send_message NAME CLIENT_IP SENDER SUBJECT: see lib/smtp.sh.
smtp_case() { mxw_smtp_case "$1" "$smtp_port" "${@:2}"; }
send_message() { mxw_send_message "$1" "$smtp_port" "${@:2}"; }
sink_file() { mxw_sink_file "$sink_dir" "$1"; }

smtp_case a-clean 127.0.0.20 a@good.mxw.test "RCPT TO" '^250 '
smtp_case b-null-mx 127.0.0.20 b@nullmx.mxw.test "MAIL FROM" \
    '^550 5\.7\.27 (<b@nullmx\.mxw\.test>\.\.\. )?sender domain nullmx\.mxw\.test does not accept mail \(null MX, RFC 7505\)'
smtp_case c-nxdomain 127.0.0.20 c@nonexist.mxw.test "MAIL FROM" '^450 4\.1\.8 (<c@nonexist\.mxw\.test>\.\.\. )?sender domain nonexist\.mxw\.test '
smtp_case d-nodata 127.0.0.20 d@nomail.mxw.test "MAIL FROM" '^450 4\.1\.8 '
smtp_case e-servfail 127.0.0.20 e@y.servfail.mxw.test "MAIL FROM" '^451 4\.4\.3 '
smtp_case f-null-sender 127.0.0.20 '<>' "RCPT TO" '^250 '
grep -q 'stage=CONNECT .* client=127\.0\.0\.20 ' "$work/milter.log" || fail "the milter saw no client macros from Sendmail"

send_message g-not-confirmed 127.0.0.21 g@good.mxw.test "mxwarden sendmail case g"
if [[ -n $data_reply ]]; then
    if delivered=$(sink_file "mxwarden sendmail case g"); then
        echo "$case_name: delivered to smtp-sink: $(grep '^X-Mxwarden: ' "$delivered" || echo 'no X-Mxwarden header')"
        grep -q '^X-Mxwarden: client=not-confirmed 127\.0\.0\.21' "$delivered" ||
            fail "the delivered message lacks the header: $(cat "$delivered")"
        (($(grep -c '^X-Mxwarden: ' "$delivered") == 1)) || fail "want exactly one X-Mxwarden header"
    else
        fail "smtp-sink received nothing; sendmail log: $(cat "$work/sm/sendmail.log")"
    fi
fi

send_message h-no-ptr-quarantine 127.0.0.22 h@good.mxw.test "mxwarden sendmail case h"
if [[ -n $data_reply ]]; then
    grep -q '^quarantined .* reason=client-no-ptr ' "$work/milter.log" || fail "the milter logged no quarantine"
    list=$(mxw_cli quarantine list --json)
    echo "$case_name: quarantine: $list"
    grep -Eq '"subject": ?"mxwarden sendmail case h"' <<<"$list" || fail "not in the quarantine: $list"
    id=$(grep -oE '"id": ?[0-9]+' <<<"$list" | head -n 1 | grep -oE '[0-9]+$' || true)
    msg=$(mxw_cli quarantine cat "${id:-0}" || true)
    # The copy is the message as the client sent it.
    grep -q '^From: h@good.mxw.test' <<<"$msg" || fail "stored message lacks its From header: $msg"
    grep -q 'This is a test mailing' <<<"$msg" || fail "stored message lacks the body: $msg"
    show=$(mxw_cli quarantine show "${id:-0}" --json || true)
    grep -Eq '"queue_id": ?"[A-Za-z0-9]+"' <<<"$show" || fail "no Sendmail queue id stored: $show"
    sleep 1
    ! grep -lq 'Subject: mxwarden sendmail case h' "$sink_dir"/* 2>/dev/null || fail "the quarantined message was delivered"
fi

case_name=i-daemon-down
mxw_stop_daemon || fail "mxwardend did not stop cleanly"
smtp_case i-daemon-down 127.0.0.20 i@nullmx.mxw.test "RCPT TO" '^250 '
grep -q '^policy-error .* on_error=accept ' "$work/milter.log" || fail "the milter logged no policy error"

mxw_finish
