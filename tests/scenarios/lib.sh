# shellcheck shell=bash
# The five seed scenarios (../../shared/seeds, README "The five seeds"): each runs its failure against a real
# Postfix twice, as stock Postfix and with mxwarden, and prints what the user sees in each case. Source this file
# after `set -euo pipefail`; it brings the integration libraries (lib/common.sh: mxw_begin, fail, the waits;
# private Postfix, nsd, faultdns, SMTP fixtures, the daemon) and:
#
#   pf_instance DIR                a private Postfix configured (not started) with $smtpd_port and quick retries
#   submit PF SUBJECT RCPT [FROM]  one message through PF's sendmail
#   stock_deferred PF SUBJECT      wait (30 s at most) until PF has deferred the message with SUBJECT; sets $reason
#   show TITLE TEXT                an indented block in the scenario's report
#
# Stock Postfix resolves through 127.0.0.10:53 (its resolv.conf, see lib/postfix.sh), a fixed address: the
# scenarios run one at a time.

scenarios_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../integration/lib/postfix.sh
source "$scenarios_dir/../integration/lib/postfix.sh"
# shellcheck source=../integration/lib/daemon.sh
source "$scenarios_dir/../integration/lib/daemon.sh"

pf_instance() {
    local dir=$1
    read -r smtpd_port < <(mxw_free_port 1)
    mxw_postfix_create "$dir" "$smtpd_port"
    mxw_postfix_conf "$dir" "minimal_backoff_time = 2s" "maximal_backoff_time = 4s" "queue_run_delay = 2s" \
        "smtp_connect_timeout = 5s" "smtp_helo_timeout = 10s"
}

submit() {
    local pf=$1 subject=$2 rcpt=$3 from=${4:-sender@mxw.test}
    printf 'From: <%s>\nSubject: %s\n\n%s\n' "$from" "$subject" "$mxw_name" |
        sendmail -C "$pf/etc" -f "$from" "$rcpt"
}

# A message Postfix cannot deliver goes back and forth between the deferred and the active queue; only in the
# deferred queue does it have a reason, so the reason is taken from a snapshot that shows it there.
_deferred() { reason=$(mxw_postfix_deferred_reason "$1" "$2") && [[ -n $reason ]]; }
stock_deferred() {
    reason=
    mxw_poll 30 _deferred "$1" "$2" || fail "stock Postfix: the message '$2' was not deferred within 30 s"
}

show() {
    printf '%s\n' "$1"
    printf '%s\n' "$2" | sed 's/^/    /'
}
