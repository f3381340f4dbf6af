# shellcheck shell=bash
# A private Sendmail 8.17 as a test peer. Debian's sendmail-bin conflicts with Postfix, so it is never installed:
# the packages are fetched with `apt-get download` and unpacked into $MXW_BUILD/sendmail-root once (kept for
# later runs), and Sendmail runs from there with its own .cf (built with m4 from sendmail-cf), queue, pid file and
# a service switch that keeps it off DNS (the host's resolver points off the machine).
#
#   mxw_sendmail_start DIR SMTP_PORT MC_LINES      build DIR/sendmail.cf from the common lines plus MC_LINES
#                                                  (m4, one per line) and run sendmail -bD on 127.0.0.1:SMTP_PORT;
#                                                  sets MXW_SENDMAIL_PID; its log is DIR/sendmail.log
#
# Sendmail stops when the script exits.
#
# Needs root and, on the first run, network access to the Debian mirror.

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
_mxw_sm_root=$MXW_BUILD/sendmail-root
MXW_SENDMAIL_PID=

_mxw_sendmail_fetch() {
    # A run that finds the tree half-made (another run still unpacking) makes its own copy and keeps whichever
    # lands first.
    [[ -x $_mxw_sm_root/usr/libexec/sendmail/sendmail ]] && return 0
    local dl deb
    dl=$(mktemp -d "$MXW_BUILD/sendmail-dl.XXXXXX")
    (cd "$dl" && apt-get download sendmail-bin sendmail-cf libwrap0 m4 >"$dl/apt.log" 2>&1) || {
        cat "$dl/apt.log" >&2
        echo "mxw-sendmail: apt-get download of sendmail-bin sendmail-cf libwrap0 m4 failed" >&2
        return 1
    }
    for deb in "$dl"/*.deb; do dpkg-deb -x "$deb" "$dl/root"; done
    # The binary is setgid mail, which would make the loader ignore LD_LIBRARY_PATH (libwrap is unpacked, not
    # installed); it runs as root here anyway.
    chmod g-s "$dl/root/usr/libexec/sendmail/sendmail"
    mv -T "$dl/root" "$_mxw_sm_root" 2>/dev/null || true
    rm -rf "$dl"
}

mxw_sendmail_start() {
    local sm=$1 port=$2 extra=$3
    _mxw_sendmail_fetch || return 1
    local m4_bin
    m4_bin=$(command -v m4 || echo "$_mxw_sm_root/usr/bin/m4")
    mkdir -p "$sm/queue"
    chmod 0700 "$sm/queue"
    printf 'hosts files\naliases files\n' >"$sm/service.switch"
    printf '127.0.0.1 localhost\n' >"$sm/hosts"
    {
        cat <<EOF
include(\`$_mxw_sm_root/usr/share/sendmail/cf/m4/cf.m4')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`mta.mxw.test')dnl
define(\`QUEUE_DIR', \`$sm/queue')dnl
define(\`confPID_FILE', \`$sm/sendmail.pid')dnl
define(\`confSERVICE_SWITCH_FILE', \`$sm/service.switch')dnl
define(\`confHOSTS_FILE', \`$sm/hosts')dnl
define(\`ALIAS_FILE', \`')dnl
define(\`STATUS_FILE', \`$sm/statistics')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confDELIVERY_MODE', \`background')dnl
FEATURE(\`accept_unresolvable_domains')dnl
RELAY_DOMAIN(\`mxw.test')dnl
DAEMON_OPTIONS(\`Port=$port, Addr=127.0.0.1, Name=MTA')dnl
EOF
        printf '%s\n' "$extra"
    } >"$sm/sendmail.mc"
    "$m4_bin" "$sm/sendmail.mc" >"$sm/sendmail.cf" || return 1
    # Sendmail resolves its own host name before it reads the .cf (and sleeps 60 s if it cannot qualify it). In a
    # private mount namespace it sees a hosts file that names it mta.mxw.test and a resolv.conf pointing at
    # 127.0.0.1:53, where nothing answers, so no lookup leaves the machine; the host's files stay untouched.
    printf '127.0.0.1 mta.mxw.test %s localhost\n' "$(hostname)" >"$sm/etc-hosts"
    printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$sm/resolv.conf"
    # shellcheck disable=SC2016  # expanded by the inner shell
    LD_LIBRARY_PATH=$_mxw_sm_root/usr/lib/x86_64-linux-gnu:$_mxw_sm_root/lib/x86_64-linux-gnu unshare -m bash -c \
        'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/resolv.conf && shift 2 && exec "$@"' mxw-sendmail \
        "$sm/etc-hosts" "$sm/resolv.conf" "$_mxw_sm_root/usr/libexec/sendmail/sendmail" -C "$sm/sendmail.cf" -bD \
        -d0.1 >"$sm/sendmail.log" 2>&1 &
    MXW_SENDMAIL_PID=$!
    mxw_track_pid "$MXW_SENDMAIL_PID"
    mxw_wait_listen 10 "127.0.0.1:$port" "$MXW_SENDMAIL_PID" "$sm/sendmail.log"
}
