#!/bin/bash
# The Debian package, built and installed on this machine: packaging/build-deb makes mxwarden_*.deb (Release,
# state in /var/lib/mxwarden), `apt-get install ./...deb` installs it, and then:
#   - the files are where the units and man pages say, the mxwarden user exists, the state directory is private;
#   - systemd-analyze verify accepts the units (the daemon's service and its two sockets, the milter's and the
#     web view's services);
#   - the daemon runs from the installed files with the unit's own command line, as the unit's user and umask,
#     on the sockets the installed socket units define (held by systemd-socket-activate: there is no systemd
#     here), plus the test DNS server;
#   - the installed CLI finds it through the packaged defaults: status, a sender check, a routing lookup, metrics;
#   - a message ingested as the mxwarden user (as the mxq pipe would) is listed;
#   - the seed 003 scenario (tests/scenarios) passes on the installed binaries;
#   - `apt-get remove` keeps the quarantine, `apt-get purge` removes it.
# Serial: it installs into /usr, /etc and /var/lib system-wide.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=lib/dns.sh
source "$here/lib/dns.sh"

mxw_begin package_test
apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -qq "$@"; }
# On the way out, after the installed daemon has stopped.
purge_package() { apt_get purge mxwarden >/dev/null 2>&1; }
mxw_on_exit purge_package

# 1. Build and install. tests/run builds the package before the tests (its Release build) and passes it in
# MXW_DEB_DIR, so that the same build is not made twice.
if [[ -n ${MXW_DEB_DIR:-} ]]; then
    deb_dir=$MXW_DEB_DIR
else
    deb_dir=${MXW_BUILD:?}/deb
    "$repo/packaging/build-deb" "$deb_dir" >"$work/build-deb.log" 2>&1 || { tail -30 "$work/build-deb.log" >&2; exit 1; }
fi
deb=$(ls "$deb_dir"/mxwarden_*.deb)
echo "built $(basename "$deb"): $(dpkg-deb -f "$deb" Depends)"
apt_get install "$deb" >"$work/install.log" 2>&1 || { cat "$work/install.log" >&2; exit 1; }

# 2. What is installed.
for f in /usr/sbin/mxwardend /usr/bin/mxwarden /usr/sbin/mxwarden-milter /usr/sbin/mxwarden-web \
    /etc/mxwarden/mxwarden.conf /usr/share/mxwarden/mxwarden-dashboard.json \
    /lib/systemd/system/mxwardend.service /lib/systemd/system/mxwarden-milter.service \
    /lib/systemd/system/mxwarden-web.service \
    /lib/systemd/system/mxwardend.socket /lib/systemd/system/mxwardend-socketmap.socket; do
    [[ -e $f ]] || fail "$f is not installed"
done
for page in mxwardend.8 mxwarden.1 mxwarden-milter.8 mxwarden.conf.5; do
    dpkg -L mxwarden | grep -q "/share/man/man${page##*.}/$page" || fail "man page $page is not in the package"
done
grep -qx '/etc/mxwarden/mxwarden.conf' <(dpkg-query --control-show mxwarden conffiles | awk '{print $1}') ||
    fail "mxwarden.conf is not a conffile"
grep -q '^#state-dir = /var/lib/mxwarden$' /etc/mxwarden/mxwarden.conf || fail "the installed config shows the wrong state-dir"
getent passwd mxwarden >/dev/null || fail "no mxwarden user"
[[ $(stat -c '%U %a' /var/lib/mxwarden 2>/dev/null) == "mxwarden 750" ]] ||
    fail "/var/lib/mxwarden: $(stat -c '%U %a' /var/lib/mxwarden 2>&1)"
verify=$(systemd-analyze verify /lib/systemd/system/mxwardend.service /lib/systemd/system/mxwardend.socket \
    /lib/systemd/system/mxwardend-socketmap.socket /lib/systemd/system/mxwarden-milter.service \
    /lib/systemd/system/mxwarden-web.service 2>&1) ||
    fail "systemd-analyze verify failed"
[[ -z $verify ]] || fail "systemd-analyze verify: $verify"

# 3. The daemon from the installed files, with the unit's command line, user and umask.
unit=/lib/systemd/system/mxwardend.service
exec_pre=$(sed -n 's/^ExecStartPre=//p' "$unit")
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
user=$(sed -n 's/^User=//p' "$unit")
umask_=$(sed -n 's/^UMask=//p' "$unit")
read -r ns_port metrics_port < <(mxw_free_port 2)
mxw_start_nsd "$work/nsd" "$ns_port"
# The policy and socketmap sockets as the installed socket units define them (address and name), held by
# systemd-socket-activate as systemd holds them: the daemon starts on the first connection and takes both from
# LISTEN_FDS instead of binding them itself.
held=() names=()
for u in mxwardend.socket mxwardend-socketmap.socket; do
    held+=(-l "$(sed -n 's/^ListenStream=//p' "/lib/systemd/system/$u")")
    names+=("$(sed -n 's/^FileDescriptorName=//p' "/lib/systemd/system/$u")")
done
[[ ${names[*]} == "policy socketmap" ]] || fail "socket unit names: ${names[*]}"
policy_addr=${held[1]} smap_addr=${held[3]}
smap_port=${smap_addr##*:}
test_args=(--listen.policy="inet:$policy_addr" --listen.socketmap="inet:$smap_addr"
    --listen.metrics="inet:127.0.0.1:$metrics_port" --dns.forwarders="127.0.0.1@$ns_port"
    --dns.transparent-zones="test. 127.in-addr.arpa." --routing.deny-addresses=0.0.0.0/8)
# shellcheck disable=SC2086  # the unit's command lines are words
runuser -u "$user" -- $exec_pre || fail "ExecStartPre ($exec_pre) failed"
# shellcheck disable=SC2086
# setpriv execs the daemon itself (runuser would stay as its parent and report a signal as status 143); so does
# systemd-socket-activate, so the daemon keeps this PID.
(umask "$umask_" && exec systemd-socket-activate "${held[@]}" --fdname="${names[0]}:${names[1]}" \
    setpriv --reuid="$user" --regid="$user" --init-groups -- $exec_start "${test_args[@]}") \
    2>"$work/mxwardend.log" &
daemon_pid=$!
mxw_track_pid "$daemon_pid"
mxw_wait_log 10 "$work/mxwardend.log" "Listening on $smap_addr" "$daemon_pid" || fail "the unit's sockets are not held"
"$MXW_PYTHON" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5).close()' \
    "${policy_addr##*:}" || fail "cannot connect to the held policy socket"
mxw_wait_log 10 "$work/mxwardend.log" 'event=ready.*state_dir=/var/lib/mxwarden' "$daemon_pid" ||
    fail "the installed daemon did not start on /var/lib/mxwarden"
grep -q "event=listen-inherited listener=policy address=inet:$policy_addr" "$work/mxwardend.log" &&
    grep -q "event=listen-inherited listener=socketmap address=inet:$smap_addr" "$work/mxwardend.log" ||
    fail "the installed daemon did not take the socket units' sockets"

# 4. The installed CLI finds it through the packaged defaults (/var/lib/mxwarden/control.sock).
mxwarden status >/dev/null || fail "mxwarden status cannot reach the installed daemon"
out=$(mxwarden check sender b@nullmx.mxw.test || true)
grep -q '^sender check: null-mx' <<<"$out" || fail "check sender via the installed daemon: $out"
answer=$("$MXW_PYTHON" - "$smap_port" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 10)
req = b"transport u@aonly.mxw.test"
s.sendall(b"%d:%s," % (len(req), req))
data = b""
while not data.endswith(b","):
    data += s.recv(4096)
print(data.decode())
EOF
)
[[ $answer == *"OK mxw:[127.0.0.5]:25," ]] || fail "socketmap lookup through the installed daemon: $answer"
curl -fsS "http://127.0.0.1:$metrics_port/metrics" -o "$work/metrics" || fail "no metrics"
grep -q '^mxwarden_socketmap_lookups_total 1$' "$work/metrics" || fail "the metrics do not count the lookup"

# 5. Ingest as the pipe's user, then review as root.
printf 'Subject: package-smoke\n\nfrom the package test\n' |
    runuser -u mxwarden -- mxwarden quarantine ingest --reason smoke --queue-id PKG1 --sender a@mxw.test -- b@mxw.test ||
    fail "ingest as mxwarden failed"
mxwarden quarantine list | grep -q 'smoke .*package-smoke' || fail "the ingested message is not listed"
[[ $(stat -c '%U %a' /var/lib/mxwarden/quarantine.db) == "mxwarden 640" ]] ||
    fail "quarantine.db: $(stat -c '%U %a' /var/lib/mxwarden/quarantine.db)"

rc=0
mxw_stop_pid "$daemon_pid" || rc=$?
((rc == 0)) || fail "the installed daemon exited with $rc on SIGTERM"

# 6. The scenario suite's smoke case (seed 003, a real Postfix asking the policy service) on the installed binaries.
mkdir -p "$work/installed"
ln -s /usr/sbin/mxwardend /usr/bin/mxwarden /usr/sbin/mxwarden-milter "$work/installed/"
MXW_BUILD=$work/installed "$repo/tests/scenarios/seed003_sender_and_ptr.sh" >"$work/seed003.log" 2>&1 ||
    { cat "$work/seed003.log" >&2; fail "the seed 003 scenario failed on the installed binaries"; }
grep -q 'seed003: all checks passed' "$work/seed003.log" || fail "the seed 003 scenario did not finish"

# 7. remove keeps the state, purge removes it.
apt_get remove mxwarden >/dev/null 2>&1 || fail "apt-get remove failed"
[[ -e /var/lib/mxwarden/quarantine.db ]] || fail "remove deleted the quarantine"
[[ ! -e /usr/sbin/mxwardend ]] || fail "remove left the daemon binary"
apt_get purge mxwarden >/dev/null 2>&1 || fail "apt-get purge failed"
[[ ! -e /var/lib/mxwarden ]] || fail "purge left /var/lib/mxwarden"
[[ ! -e /etc/mxwarden/mxwarden.conf ]] || fail "purge left the config file"

mxw_finish
