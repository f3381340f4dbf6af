# shellcheck shell=bash
# The five seed scenarios (../../shared/seeds, README "The five seeds"): each runs its failure against a real
# Postfix twice, as stock Postfix and with mxwarden, and prints what the user sees in each case. Source this file
# after `set -euo pipefail`; it brings the integration libraries (private Postfix, nsd, faultdns, the daemon) and:
#
#   scenario_begin NAME          work directory $work, EXIT trap, fail()
#   pf_instance DIR              a private Postfix configured (not started) with $smtpd_port
#   submit PF SUBJECT RCPT [FROM]  one message through PF's sendmail
#   stock_deferred PF SUBJECT    wait (30 s at most) until PF has deferred the message with SUBJECT; sets $reason
#   wait_until SECONDS CMD...    poll CMD every 0.2 s
#   show TITLE TEXT              an indented block in the scenario's report
#   scenario_end                 the verdict line and exit status
#
# Stock Postfix resolves through 127.0.0.10:53 (its resolv.conf, see lib/postfix.sh), a fixed address: the
# scenarios run one at a time.

scenarios_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../integration/lib/postfix.sh
source "$scenarios_dir/../integration/lib/postfix.sh"
# shellcheck source=../integration/lib/daemon.sh
source "$scenarios_dir/../integration/lib/daemon.sh"

scenario_pids=()
scenario_pfs=()
failures=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

scenario_begin() {
    scenario_name=$1
    work=$(mktemp -d "/tmp/mxw-$scenario_name.XXXXXX")
    chmod 0755 "$work"
    trap _scenario_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    echo "=== $scenario_name"
}

_scenario_cleanup() {
    local rc=$? p
    for p in "${scenario_pfs[@]}"; do mxw_postfix_stop "$p"; done
    for p in "${scenario_pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    mxw_daemon_cleanup
    mxw_dns_cleanup
    if ((failures || rc)); then echo "logs kept in $work" >&2; else rm -rf "$work"; fi
}

# pf_instance DIR: a private Postfix on a free smtpd port ($smtpd_port), quick retries, configured, not started.
pf_instance() {
    local dir=$1
    read -r smtpd_port < <(mxw_free_port 1)
    mxw_postfix_create "$dir" "$smtpd_port"
    mxw_postfix_conf "$dir" "minimal_backoff_time = 2s" "maximal_backoff_time = 4s" "queue_run_delay = 2s" \
        "smtp_connect_timeout = 5s" "smtp_helo_timeout = 10s"
    scenario_pfs+=("$dir")
}

submit() {
    local pf=$1 subject=$2 rcpt=$3 from=${4:-sender@mxw.test}
    printf 'From: <%s>\nSubject: %s\n\n%s\n' "$from" "$subject" "$scenario_name" |
        sendmail -C "$pf/etc" -f "$from" "$rcpt"
}

# deferred_reason PF SUBJECT: the delay reason(s), "; "-joined, of the queued message with SUBJECT if it is in the
# deferred queue with a reason for every recipient; nothing otherwise. Queue, recipients and reasons are read from
# one `postqueue -j` record: a deferred message moves to the active queue at every retry, and the queue manager
# drops its reasons there until the attempt ends, so a reason read apart from its queue may be gone.
deferred_reason() {
    local pf=$1 subject=$2 queue id
    queue=$(postqueue -c "$pf/etc" -j 2>/dev/null) || return 0
    # The queue ID stays the same in every queue, so the subject can be looked up apart from the record.
    for id in $(/usr/bin/python3 -c '
import json, sys
for line in sys.stdin:
    print(json.loads(line)["queue_id"])' <<<"$queue"); do
        postcat -c "$pf/etc" -hq "$id" 2>/dev/null | grep -x "Subject: $subject" >/dev/null || continue
        /usr/bin/python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    reasons = [r.get("delay_reason", "") for r in m["recipients"]]
    if m["queue_id"] == sys.argv[1] and m["queue_name"] == "deferred" and all(reasons):
        print("; ".join(reasons))' "$id" <<<"$queue"
        return 0
    done
}

# A message Postfix cannot deliver goes back and forth between the deferred and the active queue; only in the
# deferred queue does it have a reason, so the reason is taken from a snapshot that shows it there.
_deferred() { reason=$(deferred_reason "$1" "$2") && [[ -n $reason ]]; }
stock_deferred() {
    reason=
    wait_until 30 _deferred "$1" "$2" || fail "stock Postfix: the message '$2' was not deferred within 30 s"
}

wait_until() {
    local limit=$1 i
    shift
    for ((i = 0; i < limit * 5; i++)); do
        "$@" && return 0
        sleep 0.2
    done
    return 1
}

show() {
    printf '%s\n' "$1"
    printf '%s\n' "$2" | sed 's/^/    /'
}

scenario_end() {
    if ((failures == 0)); then echo "$scenario_name: all checks passed"; fi
    exit $((failures > 0))
}
