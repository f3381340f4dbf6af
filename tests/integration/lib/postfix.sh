# shellcheck shell=bash
#
# Private Postfix instances as a test peer for mxwarden.
#
# Source this file; it defines functions only. Each instance lives entirely
# under one directory DIR chosen by the caller:
#   DIR/etc/{main.cf,master.cf}   configuration (postfix -c DIR/etc)
#   DIR/spool                     queue directory (pid/master.pid is here)
#   DIR/data                      data directory, owned by postfix
#   DIR/maillog                   the log, written by postlogd (there is no syslog)
#   DIR/resolv.conf               the resolver file Postfix sees (see mxw_postfix_start)
# /etc/postfix is never written. Everything listens on 127.0.0.0/8 only.
#
# Functions:
#   mxw_postfix_create DIR SMTPD_PORT
#   mxw_postfix_conf DIR 'param = value' ...
#   mxw_postfix_service DIR 'name/type = master.cf line'   one master.cf service
#   mxw_postfix_mxw DIR [smtp -o options...]               the mxw smtp clone of the README
#   mxw_postfix_mxq DIR MXWARDEN_COMMAND...                the mxq pipe of the README, as the ingest user
#   mxw_postfix_start DIR RESOLV_NS
#   mxw_postfix_restart DIR RESOLV_NS
#   mxw_postfix_stop DIR                                   (every instance stops when the script exits)
#   mxw_postfix_log DIR
#   mxw_postfix_queue_empty DIR
#   mxw_postfix_deferred_reason DIR SUBJECT                 the delay reason of a deferred message
# and, from lib/dns.sh and lib/smtp.sh (sourced here), the DNS fixtures, swaks and smtp-sink.

# shellcheck source-path=SCRIPTDIR source=dns.sh
source "$(dirname "${BASH_SOURCE[0]}")/dns.sh"
# shellcheck source-path=SCRIPTDIR source=smtp.sh
source "$(dirname "${BASH_SOURCE[0]}")/smtp.sh"
MXW_POSTFIX_DIRS=()

# Postfix commands print their diagnostics only when stderr is a terminal;
# otherwise they go to the maillog, or nowhere while postlogd is not yet up.
# Run the command on a pseudo-terminal so the caller sees them. The output is
# shown on stderr when the command fails or mentions a problem.
_mxw_pf_tty() {
    local cmd out rc=0
    printf -v cmd '%q ' "$@"
    # script runs the string with $SHELL; %q quoting is bash syntax.
    out=$(SHELL=/bin/bash script -qec "$cmd" /dev/null </dev/null) || rc=$?
    out=${out//$'\r'/}
    if ((rc != 0)) || grep -qiE 'warning|error|fatal|panic' <<<"$out"; then
        printf '%s\n' "$out" >&2
    fi
    return "$rc"
}

_mxw_pf_err() {
    printf 'postfix.sh: %s\n' "$*" >&2
}

# The pid of DIR's master if it is running, else nothing. A pid file can be
# stale and its number reused, so the process must also be a "master" whose
# working directory is this instance's queue directory.
_mxw_pf_master_pid() {
    local dir=$1 pid spool
    [[ -r $dir/spool/pid/master.pid ]] || return 0
    read -r pid <"$dir/spool/pid/master.pid" || return 0
    [[ $pid =~ ^[0-9]+$ ]] || return 0
    spool=$(cd "$dir/spool" && pwd -P) || return 0
    if [[ $(cat "/proc/$pid/comm" 2>/dev/null) == master &&
        $(readlink "/proc/$pid/cwd" 2>/dev/null) == "$spool" ]]; then
        printf '%s\n' "$pid"
    fi
}

# Pids of every process of this instance: all Postfix daemons run with the
# queue directory as their working directory (chroot is off).
_mxw_pf_instance_pids() {
    local dir=$1 spool
    spool=$(cd "$dir/spool" 2>/dev/null && pwd -P) || return 0
    # One find for all processes; find fails on processes that exit during
    # the scan, which is expected.
    { find /proc/[0-9]*/cwd -maxdepth 0 -printf '%h %l\n' 2>/dev/null || true; } |
        awk -v spool="$spool" 'substr($0, index($0, " ") + 1) == spool { print substr($1, 7) }'
}

# mxw_postfix_create DIR SMTPD_PORT
# Write a private configuration: clients other than 127.0.0.1 are outside
# mynetworks, recipients @mxw.test may be relayed, smtpd looks up client names.
mxw_postfix_create() {
    local dir=${1-} port=${2-}
    [[ $# -eq 2 && $port =~ ^[0-9]+$ ]] || { _mxw_pf_err "usage: mxw_postfix_create DIR SMTPD_PORT"; return 1; }
    mkdir -p "$dir/etc" "$dir/spool" "$dir/data" || return
    dir=$(cd "$dir" && pwd -P) || return
    chown postfix: "$dir/data" || return
    MXW_POSTFIX_DIRS+=("$dir")

    # The data directory and the maillog are used by absolute path after the
    # daemons have dropped privileges, so every parent of DIR must be
    # searchable by the postfix user (mktemp -d makes mode 0700 directories).
    if ! runuser -u postfix -- test -x "$dir/data"; then
        _mxw_pf_err "user postfix cannot reach $dir/data; make $dir and its parents searchable (chmod o+x)"
        return 1
    fi

    cat >"$dir/etc/main.cf" <<EOF || return
compatibility_level = 3.6
queue_directory = $dir/spool
data_directory = $dir/data
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
myhostname = mta.mxw.test
mydomain = mxw.test
myorigin = \$myhostname
mydestination =
relay_domains = mxw.test
relayhost =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtpd_peername_lookup = yes
smtp_tls_security_level = none
smtpd_tls_security_level = none
EOF

    # Debian's standard services, with chroot (5th column) off everywhere: a
    # chrooted daemon would read \$queue_directory/etc/resolv.conf instead of
    # the one mxw_postfix_start provides.
    # shellcheck disable=SC2016  # $service_name is expanded by Postfix
    {
        printf '# service type  private unpriv chroot wakeup maxproc command\n'
        printf '%-16s %-10s n - n - - smtpd\n' "127.0.0.1:$port" inet
        printf '%s\n' \
            'pickup     unix       n - n 60    1 pickup' \
            'cleanup    unix       n - n -     0 cleanup' \
            'qmgr       unix       n - n 300   1 qmgr' \
            'tlsmgr     unix       - - n 1000? 1 tlsmgr' \
            'rewrite    unix       - - n -     - trivial-rewrite' \
            'bounce     unix       - - n -     0 bounce' \
            'defer      unix       - - n -     0 bounce' \
            'trace      unix       - - n -     0 bounce' \
            'verify     unix       - - n -     1 verify' \
            'flush      unix       n - n 1000? 0 flush' \
            'proxymap   unix       - - n -     - proxymap' \
            'proxywrite unix       - - n -     1 proxymap' \
            'smtp       unix       - - n -     - smtp' \
            'relay      unix       - - n -     - smtp' \
            '  -o syslog_name=postfix/$service_name' \
            'showq      unix       n - n -     - showq' \
            'error      unix       - - n -     - error' \
            'retry      unix       - - n -     - error' \
            'discard    unix       - - n -     - discard' \
            'local      unix       - n n -     - local' \
            'anvil      unix       - - n -     1 anvil' \
            'scache     unix       - - n -     1 scache' \
            'postlog    unix-dgram n - n -     1 postlogd'
    } >"$dir/etc/master.cf" || return

    # "check" also creates the queue subdirectories with their owners.
    _mxw_pf_tty postfix -c "$dir/etc" check
}

# mxw_postfix_conf DIR 'param = value' ...
mxw_postfix_conf() {
    local dir=${1-}
    (($# > 1)) || { _mxw_pf_err "usage: mxw_postfix_conf DIR 'param = value' ..."; return 1; }
    shift
    _mxw_pf_tty postconf -c "$dir/etc" -e "$@"
}

# mxw_postfix_start DIR RESOLV_NS
# The host's /etc/resolv.conf points off the machine. Postfix is started in a
# private mount namespace where /etc/resolv.conf is DIR/resolv.conf, naming only
# the test nameserver; the master and all its children inherit that view.
# `postfix stop` still works from outside, as it signals through the pid file.
mxw_postfix_start() {
    local dir=${1-} ns=${2-} port
    [[ $# -eq 2 ]] || { _mxw_pf_err "usage: mxw_postfix_start DIR RESOLV_NS"; return 1; }
    [[ -z $(_mxw_pf_master_pid "$dir") ]] || { _mxw_pf_err "instance $dir is already running"; return 1; }
    # One short try per query: a silent test server must not stall smtpd for
    # the glibc default of 5 s x 2 attempts per lookup.
    printf 'nameserver %s\noptions timeout:2 attempts:1\n' "$ns" >"$dir/resolv.conf" || return

    # shellcheck disable=SC2016  # expanded by the inner shell
    _mxw_pf_tty unshare -m bash -c 'mount --bind "$1" /etc/resolv.conf && exec postfix -c "$2" start' \
        mxw-postfix-start "$dir/resolv.conf" "$dir/etc" || {
        # The master's own reason for failing is only in the maillog.
        tail -n 20 "$dir/maillog" >&2 2>/dev/null
        return 1
    }

    port=$(postconf -c "$dir/etc" -M '*/inet' | awk '$NF == "smtpd" { sub(/.*:/, "", $1); print $1; exit }')
    [[ $port =~ ^[0-9]+$ ]] || { _mxw_pf_err "no smtpd inet service in $dir/etc/master.cf"; return 1; }
    mxw_wait_listen 10 "127.0.0.1:$port" "" "$dir/maillog"
}

# mxw_postfix_stop DIR
# Safe to call twice, and on an instance that never started. Stray daemons of
# this instance are killed so that DIR can be removed afterwards.
mxw_postfix_stop() {
    local dir=${1:?usage: mxw_postfix_stop DIR} pid i pids
    [[ -d $dir/spool ]] || return 0
    pid=$(_mxw_pf_master_pid "$dir")
    if [[ -n $pid ]]; then
        _mxw_pf_tty postfix -c "$dir/etc" stop || true
    fi
    # The master terminates its children on the way out; give them 5 s.
    for ((i = 0; i < 50; i++)); do
        pids=$(_mxw_pf_instance_pids "$dir")
        [[ -z $pids ]] && return 0
        sleep 0.1
    done
    printf 'postfix.sh: killing leftover processes of %s: %s\n' "$dir" "${pids//$'\n'/ }" >&2
    # shellcheck disable=SC2086  # one pid per word
    kill -KILL $pids 2>/dev/null || true
    return 0
}

# mxw_postfix_log DIR
mxw_postfix_log() {
    cat "${1:?usage: mxw_postfix_log DIR}/maillog" 2>/dev/null || true
}

_mxw_postfix_cleanup() {
    local dir
    for dir in "${MXW_POSTFIX_DIRS[@]}"; do mxw_postfix_stop "$dir"; done
}
mxw_on_exit _mxw_postfix_cleanup

# mxw_postfix_service DIR 'name/type = fields...': add or replace one master.cf service.
mxw_postfix_service() {
    postconf -c "${1:?usage: mxw_postfix_service DIR 'name/type = line'}/etc" -M "${2:?}"
}

# mxw_postfix_mxw DIR [smtp -o options...]: the smtp clone mxwarden's transport_maps answers name.
mxw_postfix_mxw() {
    local dir=${1:?usage: mxw_postfix_mxw DIR [options...]}
    shift
    mxw_postfix_service "$dir" "mxw/unix=mxw unix - - n - - smtp $*"
}

# mxw_postfix_mxq DIR MXWARDEN_COMMAND...: the mxq pipe(8) service postfix-setup writes, running
# `MXWARDEN_COMMAND... quarantine ingest` as the ingest user (see mxw_qa_user), e.g.
#   mxw_postfix_mxq "$pf" "$MXW_BUILD/mxwarden" --daemon.state-dir="$state"
mxw_postfix_mxq() {
    local dir=${1:?usage: mxw_postfix_mxq DIR MXWARDEN_COMMAND...}
    shift
    mxw_qa_user
    # shellcheck disable=SC2016  # ${...} are pipe(8) macros
    mxw_postfix_service "$dir" "mxq/unix=mxq unix - n n - 10 pipe flags=Rq user=$MXW_QA_USER null_sender= argv=$* quarantine ingest --queue-id \${queue_id} --reason \${nexthop} --sender \${sender} -- \${recipient}"
}

# mxw_postfix_restart DIR RESOLV_NS: stop and start, for a new configuration or to end trivial-rewrite's cached
# answers. Not `postfix reload`: its old processes go on with their old state for a while (the queue manager a
# message just reached, trivial-rewrite with its cache), and a message whose delivery was under way when the old
# queue manager left waits in the active queue until the next start of one.
mxw_postfix_restart() {
    mxw_postfix_stop "${1:?usage: mxw_postfix_restart DIR RESOLV_NS}"
    mxw_postfix_start "$1" "${2:?}"
}

mxw_postfix_queue_empty() {
    [[ -z $(postqueue -c "${1:?usage: mxw_postfix_queue_empty DIR}/etc" -j 2>/dev/null) ]]
}

# mxw_postfix_deferred_reason DIR SUBJECT: the delay reason(s), "; "-joined, of the queued message with SUBJECT if
# it is in the deferred queue with a reason for every recipient; nothing otherwise. Queue, recipients and reasons
# are read from one `postqueue -j` record: a deferred message moves to the active queue at every retry, and the
# queue manager drops its reasons there until the attempt ends, so a reason read apart from its queue may be gone.
mxw_postfix_deferred_reason() {
    local dir=${1:?usage: mxw_postfix_deferred_reason DIR SUBJECT} subject=${2:?} queue id
    queue=$(postqueue -c "$dir/etc" -j 2>/dev/null) || return 0
    # The queue ID stays the same in every queue, so the subject can be looked up apart from the record.
    for id in $("$MXW_PYTHON" -c '
import json, sys
for line in sys.stdin:
    print(json.loads(line)["queue_id"])' <<<"$queue"); do
        postcat -c "$dir/etc" -hq "$id" 2>/dev/null | grep -x "Subject: $subject" >/dev/null || continue
        "$MXW_PYTHON" -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    reasons = [r.get("delay_reason", "") for r in m["recipients"]]
    if m["queue_id"] == sys.argv[1] and m["queue_name"] == "deferred" and all(reasons):
        print("; ".join(reasons))' "$id" <<<"$queue"
        return 0
    done
}
