#!/bin/bash
# Proves lib/postfix.sh: a private Postfix instance consults a stand-in policy
# server at RCPT, and its answers reach an SMTP client bound to 127.0.0.20.
# Run as root. Needs postfix, swaks and /usr/bin/python3.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/postfix.sh
source "$here/lib/postfix.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/mxw-pf-selftest.XXXXXX")
# Postfix daemons reach the data directory and maillog after dropping root.
chmod 0755 "$work"
pf=$work/pf
stub_pid=

cleanup() {
    local rc=$?
    mxw_postfix_stop "$pf"
    if [[ -n $stub_pid ]]; then
        kill "$stub_pid" 2>/dev/null || true
        wait "$stub_pid" 2>/dev/null || true
    fi
    if ((rc != 0)); then
        echo "--- maillog ---" >&2
        mxw_postfix_log "$pf" >&2
        echo "--- policy stub ---" >&2
        cat "$work/stub.out" >&2 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
# Turn signals into an ordinary exit so that the EXIT trap runs.
trap 'exit 130' INT
trap 'exit 143' TERM

# Created here, not by the background redirection, so the first read below
# cannot race it.
: >"$work/stub.out"
/usr/bin/python3 "$here/fixtures/policy_stub.py" 0 >>"$work/stub.out" 2>&1 &
stub_pid=$!
stub_port=
for ((i = 0; i < 50; i++)); do
    stub_port=$(sed -n 's/^event=ready port=//p' "$work/stub.out")
    [[ -n $stub_port ]] && break
    sleep 0.1
done
[[ -n $stub_port ]] || { echo "policy stub did not become ready" >&2; exit 1; }

smtpd_port=$(mxw_free_port)
mxw_postfix_create "$pf" "$smtpd_port"
# The policy service comes first, so that no earlier permit can skip it for
# any client or recipient.
mxw_postfix_conf "$pf" \
    "smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:$stub_port, permit_mynetworks, reject_unauth_destination"
# Nothing listens on 127.0.0.10 here: client name lookups just fail.
mxw_postfix_start "$pf" 127.0.0.10

failed=0
out=$(mxw_swaks ok@x.mxw.test user@mxw.test "$smtpd_port" 127.0.0.20)
mxw_expect_reply "$out" '^250 ' "policy DUNNO: relay recipient accepted" || failed=1
out=$(mxw_swaks reject@x.mxw.test user@mxw.test "$smtpd_port" 127.0.0.20)
mxw_expect_reply "$out" '^554 5\.7\.1 .*stub says no' "policy REJECT: recipient rejected with the stub's text" || failed=1

# The sessions must have come from the bound client address, and the replies
# from the stub rather than from a built-in restriction.
grep -q 'connect from [^ ]*\[127\.0\.0\.20\]' "$pf/maillog" ||
    { echo "FAIL: maillog shows no connection from 127.0.0.20" >&2; failed=1; }
[[ $(grep -c '^request ' "$work/stub.out") -eq 2 ]] ||
    { echo "FAIL: the policy stub did not see exactly 2 requests" >&2; failed=1; }

if ((failed)); then
    exit 1
fi
echo "postfix harness selftest: ok"
