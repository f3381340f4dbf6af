#!/bin/bash
# The quarantine action of the SMTP-time checks, end to end with a real Postfix: with client.no-ptr = quarantine,
# a client without a PTR gets 250 for its message, the policy service answers FILTER mxq:client-no-ptr, and
# Postfix hands the whole message to the mxq pipe, which stores it with that reason. A client with a confirmed
# PTR is delivered as usual. Nothing is left in Postfix's queue.
#
#   swaks from 127.0.0.22 / .20 --> Postfix smtpd --check_policy_service--> mxwardend --> nsd 127.0.0.1@P
#                                        |--> FILTER mxq:client-no-ptr --> pipe --> mxwarden quarantine ingest
#                                        +--> smtp-sink (the clean message, via a static transport)
#
# Free ports only: runs beside other tests.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/postfix.sh
source "$here/lib/postfix.sh"
# shellcheck source=lib/daemon.sh
source "$here/lib/daemon.sh"

mxw_begin quarantine_policy_test
pf=$work/pf
state=$work/state
sink_dir=$work/sink

read -r smtpd_port sink_port policy_port ns_port < <(mxw_free_port 4)
mxw_qa_state_dir "$state"
mxw_start_sink "$sink_dir" "127.0.0.1:$sink_port"

mxw_start_nsd "$work/nsd" "$ns_port"
mxw_start_daemon "$state" "$work/mxwardend.log" --dns.forwarders="127.0.0.1@$ns_port" \
    --listen.policy="inet:127.0.0.1:$policy_port" --client.no-ptr=quarantine

mxw_postfix_create "$pf" "$smtpd_port"
mxw_postfix_conf "$pf" \
    "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination, check_policy_service { inet:127.0.0.1:$policy_port, timeout=10s, default_action=DUNNO }" \
    "mynetworks = 127.0.0.254/32" "transport_maps = inline:{ good.mxw.test=smtp:[127.0.0.1]:$sink_port }"
# The mxq line postfix-setup writes, with the test's state directory.
mxw_postfix_mxq "$pf" "$MXW_BUILD/mxwarden" --daemon.state-dir="$state"
# Postfix's own reverse lookups go nowhere (127.0.0.1:53 is closed): the daemon decides on its own lookups.
mxw_postfix_start "$pf" 127.0.0.1

send() {  # send CLIENT_IP SUBJECT
    mxw_swaks_message sender@good.mxw.test user@good.mxw.test "$smtpd_port" "$1" "$2" --body "policy quarantine"
}
t=$(send 127.0.0.22 q-policy-noptr)
grep -q '<-  250 2.0.0 Ok: queued' <<<"$t" || fail "the no-PTR client's message was not accepted: $t"
t=$(send 127.0.0.20 q-policy-clean)
grep -q '<-  250 2.0.0 Ok: queued' <<<"$t" || fail "the clean client's message was not accepted: $t"

q() { "$MXW_BUILD/mxwarden" --daemon.state-dir="$state" quarantine "$@"; }
stored=""
settled() { stored=$(q list --json 2>/dev/null || true) && [[ $stored == *q-policy-noptr* ]] && mxw_postfix_queue_empty "$pf"; }
mxw_poll 20 settled || true  # judged below
echo "mxwarden quarantine list:"
q list | sed 's/^/  /'
"$MXW_PYTHON" -c '
import json, sys
e = json.loads(sys.argv[1])
assert len(e) == 1, e
assert e[0]["reason"] == "client-no-ptr" and e[0]["subject"] == "q-policy-noptr" and e[0]["sender"] == "sender@good.mxw.test", e
' "$stored" || fail "want exactly the no-PTR message in the quarantine, reason client-no-ptr: $stored"
grep -q 'action=quarantine reply="FILTER mxq:client-no-ptr"' "$work/mxwardend.log" || fail "the daemon did not answer FILTER mxq:client-no-ptr"
grep -q 'status=sent (delivered via mxq service' "$pf/maillog" || fail "Postfix did not deliver to the mxq pipe"
mxw_sink_file "$sink_dir" q-policy-clean 10 >/dev/null || fail "the clean message was not delivered"
! grep -lq 'Subject: q-policy-noptr' "$sink_dir"/* 2>/dev/null || fail "the quarantined message was delivered too"
mxw_postfix_queue_empty "$pf" || fail "mail left in Postfix's queue"
mxw_finish
