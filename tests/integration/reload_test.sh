#!/bin/bash
# SIGHUP reloads mxwardend's config live, under load, without a failed request:
#   - 64 policy and 64 socketmap connections (fixtures/mta_load.py, which retries a broken connection once, as
#     Postfix does) run through every reload below; none of their requests fails or goes unanswered;
#   - a changed check action shows in the next answer (sender.null-mx reject -> defer);
#   - a config that does not parse, and one libunbound refuses, are logged as errors, the old config stays in
#     force (the answer does not change) and the daemon goes on;
#   - a changed DNS setting builds a new resolver while lookups go on; a changed listen address is logged as
#     needing a restart and the old listener keeps serving;
#   - log.level applies live;
#   - the metrics count reloads by result.
# Free ports only, so it may run beside the other tests.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/daemon.sh
source "$here/lib/daemon.sh"
# shellcheck source=lib/dns.sh
source "$here/lib/dns.sh"
load=$MXW_FIXTURES/mta_load.py

mxw_begin reload_test
load_pids=()  # they end when $work/stop-load appears

read -r ns_port policy_port smap_port metrics_port other_port < <(mxw_free_port 5)
mxw_start_nsd "$work/nsd" "$ns_port"

conf=$work/mxwarden.conf
write_conf() {  # write_conf NULL_MX_ACTION DNS_TIMEOUT [more [dns] lines] [a last line]
    cat >"$conf" <<CONF
[listen]
policy = inet:127.0.0.1:$policy_port
socketmap = inet:127.0.0.1:$smap_port
metrics = inet:127.0.0.1:$metrics_port
[dns]
forwarders = 127.0.0.1@$ns_port
timeout = $2
${3:-}
[routing]
deny-addresses = 0.0.0.0/8
[sender]
null-mx = $1
${4:-}
CONF
}
write_conf reject 4s
log=$work/mxwardend.log
mxw_start_daemon "$work/state" "$log" -c "$conf" --dns.forwarders="127.0.0.1@$ns_port" \
    --listen.socketmap="inet:127.0.0.1:$smap_port" --listen.metrics="inet:127.0.0.1:$metrics_port"
pid=$MXW_DAEMON_PID

# one_answer: the policy answer for a null-MX sender, on a fresh connection.
one_answer() {
    "$MXW_PYTHON" "$load" policy --port "$policy_port" --connections 1 --seconds 0.2 --sender a@nullmx.mxw.test |
        "$MXW_PYTHON" -c 'import json,sys; a=json.load(sys.stdin)["answers"]; print(next(iter(a)) if len(a)==1 else a)'
}
# reloaded N: wait until the daemon has finished N reloads (applied or failed), as its metrics count them.
reloaded() {
    local i m
    for i in $(seq 100); do
        m=$(curl -fsS "http://127.0.0.1:$metrics_port/metrics" |
            awk '/^mxwarden_config_reloads_total\{/ { n += $2 } END { print n + 0 }')
        ((m >= $1)) && return 0
        sleep 0.1
    done
    return 1
}

# logged ERE: the log has (or gets, within 5 s: lines are flushed a loop turn later) a line matching ERE.
logged() { mxw_wait_log 5 "$log" "$1" >/dev/null 2>&1; }

before=$(one_answer)
[[ $before == "action=550 5.7.27 "* ]] || fail "before any reload: want a 550 for the null-MX sender, got '$before'"

"$MXW_PYTHON" "$load" policy --port "$policy_port" --connections 64 --sender a@nullmx.mxw.test \
    --until-file "$work/stop-load" >"$work/policy-load.json" &
load_pids+=($!)
mxw_track_pid $!
"$MXW_PYTHON" "$load" socketmap --port "$smap_port" --connections 64 --key 'transport u@aonly.mxw.test' \
    --until-file "$work/stop-load" >"$work/socketmap-load.json" &
load_pids+=($!)
mxw_track_pid $!
sleep 1

# 1. A changed action, applied live.
write_conf defer 4s
kill -HUP "$pid"
reloaded 1 || fail "no reload logged after the first SIGHUP"
logged 'event=reload config=.* changed=sender.null-mx resolver=kept' || fail "the reload line does not name the changed key"
after=$(one_answer)
[[ $after == "action=DEFER_IF_PERMIT "* || $after == "action=450 "* || $after == "action=451 "* ]] ||
    fail "after the reload: want a deferral for the null-MX sender, got '$after'"

# 2. A file that does not parse: logged, the old config stays.
write_conf reject 4s '' 'this is not a config line'
kill -HUP "$pid"
reloaded 2 || fail "no line logged for the broken config"
logged 'error: event=reload-failed .*keeping=previous-config' || fail "the broken config is not logged as an error"
[[ $(one_answer) == "$after" ]] || fail "a broken config changed the answer"

# 3. A value the option table accepts but the resolver refuses (a trust anchor file that is not there): same.
write_conf reject 4s "dnssec = validate
trust-anchor-file = $work/no-such-root.key"
kill -HUP "$pid"
reloaded 3 || fail "no line logged for the missing trust anchor"
logged 'error: event=reload-failed .*no-such-root.key' || fail "the missing trust anchor is not logged as a failed reload"
[[ $(one_answer) == "$after" ]] || fail "a refused DNS setting changed the answer"

# 4. A new resolver (dns.timeout) and a listen address that needs a restart, under load.
write_conf defer 3s
sed -i "s/^policy = .*/policy = inet:127.0.0.1:$other_port/" "$conf"
kill -HUP "$pid"
reloaded 4 || fail "no reload logged for the DNS change"
logged 'changed=listen.policy,dns.timeout resolver=replaced' ||
    fail "the DNS change did not replace the resolver: $(grep 'event=reload ' "$log" | tail -1)"
logged 'warning: event=reload-needs-restart keys=listen.policy' || fail "listen.policy is not reported as needing a restart"
[[ $(one_answer) == "$after" ]] || fail "the policy listener stopped answering after a listen.policy change"
sleep 1

# 5. log.level: at warning, the load's info lines (one per answer) stop.
write_conf defer 3s '' "[log]
level = warning"
sed -i "s/^policy = .*/policy = inet:127.0.0.1:$other_port/" "$conf"
kill -HUP "$pid"
reloaded 5 || fail "no reload logged for log.level"
sleep 0.5
lines=$(wc -l <"$log")
sleep 1
(($(tail -n +"$((lines + 1))" "$log" | grep -vc '^warning: \|^error: ') == 0)) ||
    fail "info lines logged at log.level = warning: $(tail -n +"$((lines + 1))" "$log" | grep -v '^warning: ' | head -2)"

kill -0 "$pid" 2>/dev/null || fail "mxwardend died during the reloads"
touch "$work/stop-load"
for p in "${load_pids[@]}"; do wait "$p" || fail "a load tool failed"; done
load_pids=()
for kind in policy socketmap; do
    read -r sent answered failed < <("$MXW_PYTHON" -c \
        'import json,sys; r=json.load(open(sys.argv[1])); print(r["sent"], r["answered"], r["failed"])' "$work/$kind-load.json")
    echo "$kind load: sent=$sent answered=$answered failed=$failed"
    ((failed == 0 && sent == answered && answered > 1000)) || fail "$kind load through the reloads: $(cat "$work/$kind-load.json")"
done

metrics=$(curl -fsS "http://127.0.0.1:$metrics_port/metrics")
grep -q '^mxwarden_config_reloads_total{result="applied"} 3$' <<<"$metrics" || fail "metrics: applied reloads not 3"
grep -q '^mxwarden_config_reloads_total{result="failed"} 2$' <<<"$metrics" || fail "metrics: failed reloads not 2"

mxw_stop_daemon || fail "mxwardend did not stop cleanly"
mxw_finish
