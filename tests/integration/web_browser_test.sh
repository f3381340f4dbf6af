#!/bin/bash
# mxwarden-web in a real browser (Debian's chromium, headless, through chromedriver and python3-selenium) against
# the real binaries: mxwardend (for the health page), mxwarden-web, and a quarantine filled by `mxwarden
# quarantine ingest` as the MTA runs it. The browser logs in (a wrong password first), filters, searches, opens
# a hostile message (its <script> and <img> stay text, no script runs, no request leaves the page), releases one
# entry (the sendmail stand-in gets it once), deletes one, releases all entries matching a filter, looks at the
# health page, and logs out; a kept CSRF token is refused after logging in again; a reviewer of example.org sees
# and acts on her domain only, also by editing the URL and the release form. A POST without a CSRF token is
# refused (curl). Screenshots of the list, an entry and the health page are left in $MXW_ARTIFACTS (default:
# the build directory's web-screenshots/).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/daemon.sh
source "$here/lib/daemon.sh"
mxw_begin web_browser_test
state=$work/state
mkdir -p "$state"
read -r web_port pixel_port dns_port <<<"$(mxw_free_port 3 | tr "\n" " ")"

# The sendmail stand-in: one line per message it takes, "PID TAG", TAG from the message's X-Test-Tag header.
cat >"$work/sendmail" <<EOS
#!/bin/bash
tag=\$(grep -m1 '^X-Test-Tag:' | cut -d' ' -f2)
echo "\$\$ \$tag" >>"$work/sendmail.log"
EOS
chmod 0755 "$work/sendmail"
: >"$work/sendmail.log"

# A loopback listener that records every request: the hostile message's image and link point at it.
: >"$work/pixel.log"
"$MXW_PYTHON" - "$pixel_port" "$work/pixel.log" <<'PY' &
import http.server, sys
log = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(log, "a") as f:
            f.write(self.path + "\n")
        self.send_response(204)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
mxw_track_pid $!
mxw_wait_listen 10 "127.0.0.1:$pixel_port"

cat >"$work/mxwarden.conf" <<CONF
[daemon]
state-dir = $state
[listen]
web = inet:127.0.0.1:$web_port
[quarantine]
release-via = sendmail:$work/sendmail
CONF
q() { "$MXW_BUILD/mxwarden" -c "$work/mxwarden.conf" "$@"; }

# ingest NAME REASON SENDER RCPT SUBJECT [BODY]: one message through the MTA's command; "NAME ID" into $work/ids.
ingest() {
    local name=$1 reason=$2 sender=$3 rcpt=$4 subject=$5 body=${6:-Hello.} out
    out=$(printf 'From: %s\nTo: %s\nSubject: %s\nX-Test-Tag: %s\n\n%s\n' "$sender" "$rcpt" "$subject" "$name" "$body" |
        q quarantine ingest --reason "$reason" --sender "$sender" -- "$rcpt") || fail "ingest $name: $out"
    echo "$name ${out##* }" >>"$work/ids"
}
: >"$work/ids"
ingest report dns-failure ann@sender.test bob@example.org "Quarterly report"
ingest invoice smarthost-down acc@sender.test carol@example.net "Invoice 42"
hostile="<script>window.mxwXss=1</script><img src=\"http://127.0.0.1:$pixel_port/pixel.png\">"
ingest hostile dns-failure evil@sender.test dave@example.com "$hostile" \
    "<html><body>$hostile<p>Click <a href=\"http://127.0.0.1:$pixel_port/link\">here</a></p></body></html>"
ingest stale dns-failure ann@sender.test erin@example.com "Kept for the CSRF check"
ingest org dns-failure ann@sender.test frank@example.org "For the reviewer"
for i in 1 2 3; do ingest "bulk$i" null-mx ann@sender.test "user$i@example.com" "Bulk $i"; done
id_of() { awk -v n="$1" '$1 == n {print $2}' "$work/ids"; }

printf 'alice-secret-1\n' | q web-user add alice --role admin >/dev/null || fail "web-user add alice"
printf 'rita-secret-1\n' | q web-user add rita --role reviewer --domains example.org >/dev/null ||
    fail "web-user add rita"

# Nothing answers on dns_port: a route asked now (in the background, it waits out the DNS timeout) makes a
# destination failing DNS for the health page.
mxw_start_daemon "$state" "$work/daemon.log" --dns.forwarders="127.0.0.1@$dns_port" \
    --listen.policy="unix:$state/policy.sock"
(q route unreachable.example >/dev/null 2>&1 || true) &
"$MXW_BUILD/mxwarden-web" -c "$work/mxwarden.conf" 2>"$work/web.log" &
web_pid=$!
mxw_track_pid "$web_pid"
mxw_wait_listen 10 "127.0.0.1:$web_port" "$web_pid" "$work/web.log"

# A POST with a session but without its CSRF token: refused, nothing done.
code=$(curl -s -c "$work/jar" -o /dev/null -w '%{http_code}' --data-urlencode user=alice \
    --data-urlencode password=alice-secret-1 "http://127.0.0.1:$web_port/login")
[[ $code == 303 ]] || fail "curl login: HTTP $code, want 303"
code=$(curl -s -b "$work/jar" -o "$work/nocsrf.html" -w '%{http_code}' --data "action=delete&id=$(id_of stale)" \
    "http://127.0.0.1:$web_port/quarantine/action")
[[ $code == 403 ]] || fail "a POST without a CSRF token: HTTP $code, want 403"
q quarantine show "$(id_of stale)" | grep -Eq '^entry [0-9]+: held' || fail "a POST without a CSRF token changed the entry"

shots=${MXW_ARTIFACTS:-$MXW_BUILD/web-screenshots}
if ! "$MXW_PYTHON" "$here/fixtures/web_browser.py" "http://127.0.0.1:$web_port" "$work" "$work/pixel.log" \
    "$work/sendmail.log" >"$work/browser.log" 2>&1; then
    cat "$work/browser.log"
    fail "the browser checks failed (screenshots and the page are in $work)"
fi
mkdir -p "$shots"
for s in quarantine-list quarantine-entry health; do
    if [[ -s $work/screenshots/$s.png ]]; then cp "$work/screenshots/$s.png" "$shots/"; else fail "no screenshot $s.png"; fi
done
q quarantine show "$(id_of org)" | grep -q 'web:rita' || fail "the reviewer's release is not in the entry's history"
mxw_finish
