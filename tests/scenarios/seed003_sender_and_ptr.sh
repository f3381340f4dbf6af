#!/bin/bash
# Seed 003: remote servers refuse mail whose sender domain does not resolve, and mail from servers whose PTR does
# not match. Stock Postfix accepts a null-MX sender, a sender domain that does not exist, and a client whose PTR
# is forged, and the trouble comes back days later as bounces from elsewhere. With mxwarden's policy service the
# client gets the answer at SMTP time (550 5.7.27, 450 4.1.8) and the forged-PTR message is tagged. `mxwarden
# doctor` flags the same PTR/HELO mismatch on this server's own address.
#
#   swaks from 127.0.0.2x --> Postfix smtpd [--check_policy_service--> mxwardend] --> nsd 127.0.0.1@P (+127.0.0.10:53)
#   MX good.mxw.test -> smtp-sink 127.0.0.2:25
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
mxw_begin seed003

read -r ns_port policy_port < <(mxw_free_port 2)
mxw_start_nsd "$work/nsd" "$ns_port" 127.0.0.10@53
mxw_start_sink "$work/sink" 127.0.0.2:25

# rcpt_reply PORT CLIENT SENDER: the server's answer to RCPT TO.
rcpt_reply() { mxw_smtp_reply "$(mxw_swaks "$3" user@good.mxw.test "$1" "$2")" "RCPT TO"; }
# send PORT CLIENT SUBJECT: a whole message from a good sender.
send() { mxw_swaks_message a@good.mxw.test user@good.mxw.test "$1" "$2" "$3" --body seed003 >/dev/null; }

# --- without mxwarden
pf_instance "$work/stock"
mxw_postfix_start "$work/stock" 127.0.0.10
s_null=$(rcpt_reply "$smtpd_port" 127.0.0.20 b@nullmx.mxw.test)
s_none=$(rcpt_reply "$smtpd_port" 127.0.0.20 c@nonexist.mxw.test)
send "$smtpd_port" 127.0.0.21 seed003-stock-forged
show "without mxwarden:" "null-MX sender        -> $s_null
nonexistent domain    -> $s_none
forged-PTR client     -> accepted, untagged"
[[ $s_null == 250* && $s_none == 250* ]] || fail "stock Postfix was expected to accept both senders"

# --- with mxwarden
mxw_start_daemon "$work/state" "$work/mxwardend.log" --dns.forwarders="127.0.0.1@$ns_port" \
    --listen.policy="inet:127.0.0.1:$policy_port"
pf_instance "$work/mxw"
# In smtpd_sender_restrictions the codes pass unchanged (README, Postfix).
mxw_postfix_conf "$work/mxw" \
    "smtpd_sender_restrictions = check_policy_service { inet:127.0.0.1:$policy_port, timeout=10s, default_action=DUNNO }"
mxw_postfix_start "$work/mxw" 127.0.0.10
m_null=$(rcpt_reply "$smtpd_port" 127.0.0.20 b@nullmx.mxw.test)
m_none=$(rcpt_reply "$smtpd_port" 127.0.0.20 c@nonexist.mxw.test)
send "$smtpd_port" 127.0.0.21 seed003-mxw-forged
tag=
if delivered=$(mxw_sink_file "$work/sink" seed003-mxw-forged 20); then
    tag=$(grep -h '^X-Mxwarden:' "$delivered" || true)
else
    fail "the forged-PTR message was not delivered"
fi
show "with mxwarden:" "null-MX sender        -> $m_null
nonexistent domain    -> $m_none
forged-PTR client     -> accepted, $tag"
[[ $m_null == "550 5.7.27 "* ]] || fail "null-MX sender: want 550 5.7.27, got '$m_null'"
[[ $m_none == "450 4.1.8 "* ]] || fail "nonexistent sender domain: want 450 4.1.8, got '$m_none'"
[[ $tag == "X-Mxwarden: client=not-confirmed 127.0.0.21" ]] || fail "forged PTR: want the tag header, got '$tag'"

# --- doctor on this server's own identity, were it 127.0.0.21 with HELO mta.mxw.test
rc=0
doc=$("$MXW_BUILD/mxwarden" --daemon.state-dir="$work/state" doctor --dns.forwarders="127.0.0.1@$ns_port" \
    --name good.mxw.test --outbound-ip 127.0.0.21 --postfix-config "$work/mxw/etc" --timeout 1s 2>&1) || rc=$?
show "mxwarden doctor --outbound-ip 127.0.0.21:" "$(sed -n '/^identity/,/^$/p' <<<"$doc")"
grep -q 'FAIL  PTR 127.0.0.21: client-forged.mxw.test (does not resolve back to 127.0.0.21)' <<<"$doc" ||
    fail "doctor does not flag the forged PTR"
grep -q 'warn  HELO name: mta.mxw.test (the PTR says client-forged.mxw.test)' <<<"$doc" ||
    fail "doctor does not flag the HELO/PTR mismatch"
mxw_finish
