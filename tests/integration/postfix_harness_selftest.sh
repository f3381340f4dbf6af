#!/bin/bash
# Proves lib/postfix.sh: a private Postfix instance consults a stand-in policy
# server at RCPT, and its answers reach an SMTP client bound to 127.0.0.20.
# Run as root. Needs postfix, swaks and /usr/bin/python3.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/postfix.sh
source "$here/lib/postfix.sh"
mxw_begin postfix_harness_selftest
pf=$work/pf

"$MXW_PYTHON" "$MXW_FIXTURES/policy_stub.py" 0 >"$work/stub.out" 2>&1 &
stub_pid=$!
mxw_track_pid "$stub_pid"
mxw_wait_log 5 "$work/stub.out" '^event=ready port=' "$stub_pid"
stub_port=$(sed -n 's/^event=ready port=//p' "$work/stub.out")

smtpd_port=$(mxw_free_port)
mxw_postfix_create "$pf" "$smtpd_port"
# The policy service comes first, so that no earlier permit can skip it for
# any client or recipient.
mxw_postfix_conf "$pf" \
    "smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:$stub_port, permit_mynetworks, reject_unauth_destination"
# Nothing listens on 127.0.0.10 here: client name lookups just fail.
mxw_postfix_start "$pf" 127.0.0.10

out=$(mxw_swaks ok@x.mxw.test user@mxw.test "$smtpd_port" 127.0.0.20)
mxw_expect_reply "$out" '^250 ' "policy DUNNO: relay recipient accepted" || failures=$((failures + 1))
out=$(mxw_swaks reject@x.mxw.test user@mxw.test "$smtpd_port" 127.0.0.20)
mxw_expect_reply "$out" '^554 5\.7\.1 .*stub says no' "policy REJECT: recipient rejected with the stub's text" ||
    failures=$((failures + 1))

# The sessions must have come from the bound client address, and the replies
# from the stub rather than from a built-in restriction.
grep -q 'connect from [^ ]*\[127\.0\.0\.20\]' "$pf/maillog" || fail "maillog shows no connection from 127.0.0.20"
[[ $(grep -c '^request ' "$work/stub.out") -eq 2 ]] || fail "the policy stub did not see exactly 2 requests"
mxw_finish
