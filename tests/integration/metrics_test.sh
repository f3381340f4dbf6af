#!/bin/bash
# The Prometheus endpoint (listen.metrics) of a real mxwardend: after policy requests over the real protocol (a
# null-MX sender, a clean one) and a routing lookup, GET /metrics shows them counted by check, outcome and action,
# the DNS lookups by status, and the latency histogram; other paths and methods get 404/405; the text is valid
# exposition format (every sample belongs to a declared family). Then `mxwarden health`: a destination whose only MX
# never greets shows that host dead from a probe, a domain the DNS refuses shows as failing DNS, the policy requests
# are in the activity, and the JSON form says the same. Free ports only.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/dns.sh
source "$here/lib/dns.sh"
# shellcheck source=lib/daemon.sh
source "$here/lib/daemon.sh"
# shellcheck source=lib/smtp.sh
source "$here/lib/smtp.sh"
mxw_begin metrics_test

read -r ns_port policy_port metrics_port < <(mxw_free_port 3)
mxw_start_nsd "$work/nsd" "$ns_port"
mxw_start_daemon "$work/state" "$work/mxwardend.log" --dns.forwarders="127.0.0.1@$ns_port" \
    --listen.policy="inet:127.0.0.1:$policy_port" --listen.metrics="inet:127.0.0.1:$metrics_port" \
    --routing.deny-addresses=0.0.0.0/8 --probe.banner-timeout=1s

request() {  # request SENDER: one RCPT-state request, as smtpd sends it
    "$MXW_PYTHON" "$MXW_FIXTURES/policy_client.py" "inet:127.0.0.1:$policy_port" 1 request=smtpd_access_policy \
        protocol_state=RCPT protocol_name=ESMTP client_address=127.0.0.20 client_name=client-ok.mxw.test \
        reverse_client_name=client-ok.mxw.test helo_name=client-ok.mxw.test "sender=$1" recipient=u@good.mxw.test \
        queue_id= instance=1.$RANDOM
}
request b@nullmx.mxw.test >/dev/null
request a@good.mxw.test >/dev/null
request a@good.mxw.test >/dev/null
"$MXW_BUILD/mxwarden" --daemon.state-dir="$work/state" route good.mxw.test >/dev/null

body=$(curl -fsS "http://127.0.0.1:$metrics_port/metrics") || fail "GET /metrics failed"
printf '%s\n' "$body" >"$work/metrics.txt"
want() {  # want REGEX WHAT
    grep -qE -- "$1" <<<"$body" || fail "$2 (no line matching $1)"
}
want '^mxwarden_policy_requests_total 3$' "three policy requests"
want '^mxwarden_decisions_total\{check="sender",outcome="null-mx"\} 1$' "the null-MX finding"
want '^mxwarden_decisions_total\{check="sender",outcome="ok"\} 2$' "the clean sender findings"
want '^mxwarden_policy_actions_total\{action="reject"\} 1$' "one reject"
want '^mxwarden_policy_request_seconds_count 3$' "the latency histogram"
want '^mxwarden_policy_request_seconds_bucket\{le="\+Inf"\} 3$' "the histogram's last bucket"
want '^mxwarden_dns_lookups_total\{status="ok",transport="udp-then-tcp"\} [1-9]' "DNS lookups by status"
want '^mxwarden_dns_lookup_seconds_count [1-9]' "the DNS lookup latency histogram"
want '^mxwarden_cache_entries\{cache="route"\} 1$' "the routed destination"
want '^mxwarden_probes_total\{outcome="(ok|refused)"\}' "probe outcomes"

# Every sample's metric name (less _bucket/_sum/_count) has a # TYPE line.
"$MXW_PYTHON" - "$work/metrics.txt" <<'EOF' || fail "the exposition text is not well-formed"
import re, sys
types, bad = set(), []
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("# TYPE "):
        types.add(line.split()[2])
    elif line and not line.startswith("#"):
        m = re.match(r'^([a-z_]+)(\{[a-z_]+="[^"\\]*"(,[a-z_]+="[^"\\]*")*\})? (-?[0-9.e+-]+|\+Inf)$', line)
        name = m and re.sub(r"_(bucket|sum|count)$", "", m.group(1))
        if not m or (m.group(1) not in types and name not in types):
            bad.append(line)
if bad:
    sys.exit("bad lines: %r" % bad[:5])
EOF

code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$metrics_port/other")
[[ $code == 404 ]] || fail "GET /other: want 404, got $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$metrics_port/metrics")
[[ $code == 405 ]] || fail "POST /metrics: want 405, got $code"
# Garbage and a request head past the cap get no answer; the daemon goes on.
printf 'garbage\r\n\r\n' | timeout 5 bash -c "cat >/dev/tcp/127.0.0.1/$metrics_port" || true
head -c 20000 /dev/zero | tr '\0' 'a' | timeout 5 bash -c "cat >/dev/tcp/127.0.0.1/$metrics_port" 2>/dev/null || true
after=$(curl -fsS "http://127.0.0.1:$metrics_port/metrics") || true
grep -q '^mxwarden_policy_requests_total 3$' <<<"$after" || fail "the endpoint did not survive bad requests"

# `mxwarden health`: the silent MX of health.mxw.test is found dead by its probe (1 s banner timeout), and
# broken.example, which the test DNS server refuses, fails DNS.
mxw_start_smtp_peers "$work/peers.log" 127.0.0.51:25=silent
mxw_cli route health.mxw.test >/dev/null
mxw_cli route broken.example >/dev/null || true
silent_dead() { mxw_cli health | grep -qE '^  127\.0\.0\.51 +dead +probe +banner-timeout +[0-9]+s +mx-health-silent\.mxw\.test$'; }
mxw_poll 10 silent_dead || fail "health does not show 127.0.0.51 dead from a probe: $(mxw_cli health)"
mxw_cli health >"$work/health.txt"
sed 's/^/  /' "$work/health.txt"
grep -qE '^  broken\.example +servfail +[0-9]+s ' "$work/health.txt" ||
    fail "health does not show broken.example failing DNS"
grep -qE '^  decisions: +3 in the last hour, 3 in all$' "$work/health.txt" || fail "health does not count the 3 decisions"
# Dead: the silent MX and good.mxw.test's mx1, where nothing listens here.
grep -qE '^  dead hosts: +2 now' "$work/health.txt" || fail "health does not count the two dead hosts"
json=$(mxw_cli health --json)
"$MXW_PYTHON" - "$json" <<'EOF' || fail "health --json: $json"
import json, sys
r = json.loads(sys.argv[1])
hosts = {h["address"]: h for h in r["hosts"]}
h = hosts["127.0.0.51"]
assert (h["state"], h["source"], h["last_outcome"], h["names"]) == ("dead", "probe", "banner-timeout", ["mx-health-silent.mxw.test"]), h
assert 0 <= r["now"] - h["last_at"] < 60, h
f = {x["domain"]: x for x in r["failing"]}["broken.example"]
assert f["status"] == "servfail" and 0 <= r["now"] - f["since"] < 60, f
assert r["bucket_seconds"] == 300 and sum(b["decisions"] for b in r["activity"]) == 3, r["activity"]
EOF

mxw_finish
