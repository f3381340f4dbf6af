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

# routing.steer = dns-filter: Postfix keeps routing by domain and asks the dnsfilter map; no tls map, no mxw clone;
# the transport map stays for the quarantine, and an admin's own reply filter keeps its place first.
pf2=$work/pf-dnsfilter
mxw_postfix_create "$pf2" 2526
mxw_postfix_conf "$pf2" "smtp_dns_reply_filter = regexp:$pf2/etc/reply_filter"
printf '/^example\\.invalid\\. .* IN MX /    IGNORE\n' >"$pf2/etc/reply_filter"
cli2=("${cli[@]}" --routing.steer=dns-filter)

rc=0
out=$("${cli2[@]}" postfix-setup --check --postfix-config "$pf2/etc" 2>&1) || rc=$?
echo "--- postfix-setup --check, dns-filter:"
printf '%s\n' "$out" | sed 's/^/  /'
((rc == 1)) || fail "dns-filter: --check should exit 1 while things are missing, got $rc"
for want in 'smtp_dns_reply_filter = ' 'transport_maps = ' '-M .mxq/unix = '; do
    grep -q -- "$want" <<<"$out" || fail "dns-filter: --check does not list $want"
done
for unwanted in 'smtp_tls_policy_maps' '-M .mxw/unix'; do
    ! grep -q -- "$unwanted" <<<"$out" || fail "dns-filter: --check lists $unwanted"
done

rc=0
out=$("${cli2[@]}" postfix-setup --apply --postfix-config "$pf2/etc" --pipe-user nobody 2>&1) || rc=$?
printf '%s\n' "$out" | sed 's/^/  /'
((rc == 0)) || fail "dns-filter: --apply exited $rc"
val2() { postconf -c "$pf2/etc" -h "$1"; }
[[ $(val2 smtp_dns_reply_filter) == "regexp:$pf2/etc/reply_filter, socketmap:inet:127.0.0.1:10041:dnsfilter" ]] ||
    fail "smtp_dns_reply_filter: the admin's filter must stay first: $(val2 smtp_dns_reply_filter)"
[[ $(val2 transport_maps) == "socketmap:inet:127.0.0.1:10041:transport" ]] ||
    fail "dns-filter: transport_maps: $(val2 transport_maps)"
[[ -z $(val2 smtp_tls_policy_maps) ]] || fail "dns-filter: smtp_tls_policy_maps set: $(val2 smtp_tls_policy_maps)"
[[ -z $(postconf -c "$pf2/etc" -M mxw/unix) ]] || fail "dns-filter: the mxw clone was added"
[[ -n $(postconf -c "$pf2/etc" -M mxq/unix) ]] || fail "dns-filter: the mxq pipe is missing"
check=$(postfix -c "$pf2/etc" check 2>&1) || fail "dns-filter: postfix check failed: $check"
rc=0
out=$("${cli2[@]}" postfix-setup --apply --postfix-config "$pf2/etc" --pipe-user nobody 2>&1) || rc=$?
((rc == 0)) && grep -q 'nothing to change' <<<"$out" || fail "dns-filter: a second --apply changed something: $out"

# Switching the first instance to dns-filter adds the filter and says its tls map is no longer used.
rc=0
out=$("${cli2[@]}" postfix-setup --check --postfix-config "$pf/etc" 2>&1) || rc=$?
((rc == 1)) || fail "dns-filter on the transport setup: --check should exit 1, got $rc"
grep -q 'smtp_dns_reply_filter = socketmap:inet:127.0.0.1:10041:dnsfilter' <<<"$out" ||
    fail "dns-filter on the transport setup: no reply filter: $out"
grep -q 'warning: smtp_tls_policy_maps has socketmap:inet:127.0.0.1:10041:tls' <<<"$out" ||
    fail "dns-filter on the transport setup: no warning about the tls map: $out"

# A fleet node: the mxq pipe gets the store settings, and postfix-setup says it stores into the shared store.
pf3=$work/pf3
mxw_postfix_create "$pf3" 2527
rc=0
out=$("${cli[@]}" --store.url=postgresql://mxwarden@db.example.net/mxwarden --store.node=mta-2 \
    postfix-setup --postfix-config "$pf3/etc" --pipe-user nobody 2>&1) || rc=$?
((rc == 0)) || fail "fleet: postfix-setup exited $rc: $out"
grep -q "fleet: the mxq pipe stores into the shared PostgreSQL store (store.url) as node 'mta-2'" <<<"$out" ||
    fail "fleet: no word of the shared store: $out"
grep -q 'argv=.* --store.node=mta-2 --store.url=postgresql://mxwarden@db.example.net/mxwarden quarantine ingest' <<<"$out" ||
    fail "fleet: the mxq pipe does not get the store settings: $out"
out=$("${cli[@]}" "--store.url=host=db dbname=mxwarden" postfix-setup --postfix-config "$pf3/etc" 2>&1) || true
grep -q 'warning: --store.url has spaces' <<<"$out" || fail "fleet: no warning about a connection string with spaces: $out"

mxw_finish
