#!/bin/bash
# mxwarden postfix-setup against a private Postfix configuration (postconf -c DIR): --check finds what is missing,
# --apply backs up and applies it, `postfix check` accepts the result, a second --apply changes nothing, and an
# admin's own settings (a transport table, an existing TLS policy map, a restriction list) are kept, in order.
# The instance is configured, not started: no ports are used.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/postfix.sh
source "$here/lib/postfix.sh"

mxw_begin postfix_setup_test

pf=$work/pf
mxw_postfix_create "$pf" 2525
mxw_postfix_conf "$pf" "transport_maps = hash:$pf/etc/transport" "smtp_tls_policy_maps = hash:$pf/etc/tls_policy" \
    "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination, reject_unknown_sender_domain"
: >"$pf/etc/transport" && postmap -c "$pf/etc" "$pf/etc/transport"
: >"$pf/etc/tls_policy" && postmap -c "$pf/etc" "$pf/etc/tls_policy"
cli=("$MXW_BUILD/mxwarden" --daemon.state-dir="$work/state")

rc=0
out=$("${cli[@]}" postfix-setup --check --postfix-config "$pf/etc" 2>&1) || rc=$?
echo "--- postfix-setup --check before:"
printf '%s\n' "$out" | sed 's/^/  /'
((rc == 1)) || fail "--check should exit 1 while things are missing, got $rc"
grep -q 'warning: smtpd_recipient_restrictions has reject_unknown_sender_domain' <<<"$out" ||
    fail "--check does not warn about the duplicate sender-domain check"
for want in 'smtpd_recipient_restrictions = ' 'transport_maps = ' 'smtp_tls_policy_maps = ' '-M .mxw/unix = ' \
    '-M .mxq/unix = '; do
    grep -q -- "$want" <<<"$out" || fail "--check does not list $want"
done

rc=0
out=$("${cli[@]}" postfix-setup --apply --postfix-config "$pf/etc" --pipe-user nobody 2>&1) || rc=$?
echo "--- postfix-setup --apply:"
printf '%s\n' "$out" | sed 's/^/  /'
((rc == 0)) || fail "--apply exited $rc"
ls "$pf/etc"/main.cf.mxwarden-* "$pf/etc"/master.cf.mxwarden-* >/dev/null 2>&1 || fail "no backups of main.cf/master.cf"

val() { postconf -c "$pf/etc" -h "$1"; }
[[ $(val transport_maps) == "hash:$pf/etc/transport, socketmap:inet:127.0.0.1:10041:transport" ]] ||
    fail "transport_maps: the admin's table must stay first: $(val transport_maps)"
[[ $(val smtp_tls_policy_maps) == "socketmap:inet:127.0.0.1:10041:tls, hash:$pf/etc/tls_policy" ]] ||
    fail "smtp_tls_policy_maps: mxwarden's map must come first: $(val smtp_tls_policy_maps)"
[[ $(val smtpd_recipient_restrictions) == "permit_mynetworks, reject_unauth_destination, reject_unknown_sender_domain, check_policy_service { inet:127.0.0.1:10040, timeout=15s, default_action=DUNNO }" ]] ||
    fail "smtpd_recipient_restrictions: $(val smtpd_recipient_restrictions)"
mxw=$(postconf -c "$pf/etc" -M mxw/unix)
[[ $mxw == *" smtp -o smtp_helo_timeout=30s -o smtp_connect_timeout=10s -o syslog_name=postfix/mxw" ]] ||
    fail "the mxw clone: '$mxw'"
mxq=$(postconf -c "$pf/etc" -M mxq/unix)
[[ $mxq == *"pipe"*"user=nobody"*"$MXW_BUILD/mxwarden --daemon.state-dir=$work/state quarantine ingest --queue-id \${queue_id} --reason \${nexthop} --sender \${sender} -- \${recipient}"* ]] ||
    fail "the mxq pipe: '$mxq'"
check=$(postfix -c "$pf/etc" check 2>&1) || fail "postfix check failed: $check"

rc=0
out=$("${cli[@]}" postfix-setup --apply --postfix-config "$pf/etc" --pipe-user nobody 2>&1) || rc=$?
((rc == 0)) && grep -q 'nothing to change' <<<"$out" || fail "a second --apply changed something: $out"
rc=0
"${cli[@]}" postfix-setup --check --postfix-config "$pf/etc" >/dev/null 2>&1 || rc=$?
((rc == 0)) || fail "--check after --apply exited $rc"

rc=0
out=$("${cli[@]}" postfix-setup --check --apply --postfix-config "$pf/etc" 2>&1) || rc=$?
((rc == 64)) || fail "--check with --apply must be a usage error, got $rc"

mxw_finish
