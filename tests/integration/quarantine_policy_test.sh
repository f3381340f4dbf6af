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

qa_user=mxwtest-q
id "$qa_user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$qa_user"

work=$(mktemp -d /tmp/mxw-quarantine-policy.XXXXXX)
chmod 0755 "$work"
pf=$work/pf
state=$work/state
sink_dir=$work/sink
pids=()
failures=0
cleanup() {
    local rc=$?
    mxw_postfix_stop "$pf"
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    mxw_daemon_cleanup
    mxw_dns_cleanup
    if ((failures || rc)); then echo "logs kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

read -r smtpd_port sink_port policy_port ns_port < <(mxw_free_port 4)
mkdir -p "$state" && chown "$qa_user:" "$state" && chmod 0750 "$state"
mkdir -p "$sink_dir" && chown postfix: "$sink_dir"
smtp-sink -u postfix -d "$sink_dir/%M." "127.0.0.1:$sink_port" 10 >"$work/smtp-sink.log" 2>&1 &
pids+=($!)

mxw_start_nsd "$work/nsd" "$ns_port"
mxw_start_daemon "$state" "$work/mxwardend.log" --dns.forwarders="127.0.0.1@$ns_port" \
    --listen.policy="inet:127.0.0.1:$policy_port" --client.no-ptr=quarantine

mxw_postfix_create "$pf" "$smtpd_port"
mxw_postfix_conf "$pf" \
    "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination, check_policy_service { inet:127.0.0.1:$policy_port, timeout=10s, default_action=DUNNO }" \
    "mynetworks = 127.0.0.254/32" "transport_maps = inline:{ good.mxw.test=smtp:[127.0.0.1]:$sink_port }"
# The mxq line postfix-setup writes, with the test's state directory.
# shellcheck disable=SC2016  # ${...} are pipe(8) macros
postconf -c "$pf/etc" -M "mxq/unix=mxq unix - n n - 10 pipe flags=Rq user=$qa_user null_sender= argv=$MXW_BUILD/mxwarden --daemon.state-dir=$state quarantine ingest --queue-id \${queue_id} --reason \${nexthop} --sender \${sender} -- \${recipient}"
# Postfix's own reverse lookups go nowhere (127.0.0.1:53 is closed): the daemon decides on its own lookups.
mxw_postfix_start "$pf" 127.0.0.1

send() {  # send CLIENT_IP SUBJECT
    swaks --server 127.0.0.1 --port "$smtpd_port" --local-interface "$1" --helo client.mxw.test \
        --from sender@good.mxw.test --to user@good.mxw.test --header "Subject: $2" --body "policy quarantine" \
        --timeout 15s </dev/null 2>&1 || true
}
t=$(send 127.0.0.22 q-policy-noptr)
grep -q '<-  250 2.0.0 Ok: queued' <<<"$t" || fail "the no-PTR client's message was not accepted: $t"
t=$(send 127.0.0.20 q-policy-clean)
grep -q '<-  250 2.0.0 Ok: queued' <<<"$t" || fail "the clean client's message was not accepted: $t"

q() { "$MXW_BUILD/mxwarden" --daemon.state-dir="$state" quarantine "$@"; }
stored=""
for _ in $(seq 100); do
    stored=$(q list --json 2>/dev/null || true)
    [[ $stored == *q-policy-noptr* && -z $(postqueue -c "$pf/etc" -j 2>/dev/null) ]] && break
    sleep 0.2
done
echo "mxwarden quarantine list:"
q list | sed 's/^/  /'
/usr/bin/python3 -c '
import json, sys
e = json.loads(sys.argv[1])
assert len(e) == 1, e
assert e[0]["reason"] == "client-no-ptr" and e[0]["subject"] == "q-policy-noptr" and e[0]["sender"] == "sender@good.mxw.test", e
' "$stored" || fail "want exactly the no-PTR message in the quarantine, reason client-no-ptr: $stored"
grep -q 'action=quarantine reply="FILTER mxq:client-no-ptr"' "$work/mxwardend.log" || fail "the daemon did not answer FILTER mxq:client-no-ptr"
grep -q 'status=sent (delivered via mxq service' "$pf/maillog" || fail "Postfix did not deliver to the mxq pipe"
for _ in $(seq 50); do grep -lq 'Subject: q-policy-clean' "$sink_dir"/* 2>/dev/null && break; sleep 0.2; done
grep -lq 'Subject: q-policy-clean' "$sink_dir"/* 2>/dev/null || fail "the clean message was not delivered"
! grep -lq 'Subject: q-policy-noptr' "$sink_dir"/* 2>/dev/null || fail "the quarantined message was delivered too"
[[ -z $(postqueue -c "$pf/etc" -j 2>/dev/null) ]] || fail "mail left in Postfix's queue"

((failures == 0)) && echo "quarantine_policy_test: all checks passed"
exit $((failures > 0))
