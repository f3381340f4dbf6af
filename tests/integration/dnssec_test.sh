#!/bin/bash
# dns.dnssec = validate proven through the daemon against a zone signed at test time. The zone sec.test is made and
# signed here (ldns-keygen, ldns-signzone; NSEC) in a temporary directory, so no key is ever committed; then the
# RRSIG of one name, tampered.sec.test MX, is corrupted, and nsd serves the result next to the fixed test zones.
# The daemon forwards to nsd with the zone's DS record as its only trust anchor, and `mxwarden check sender --json`
# (which bypasses the verdict cache) shows what it concluded:
#   validate: signed answers are "secure", the corrupted one is bogus (a temporary failure: 451 4.4.3), and
#             mxw.test, which no anchor covers, still resolves (insecure, not bogus);
#   off:      the same corrupted answer is taken as it comes;
#   an anchor for another key makes the whole zone bogus; an anchor file that does not exist stops the daemon at
#   start-up (exit 78) instead of failing every lookup later.
# Only its own servers on 127.0.0.0/8 are ever queried.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/dns.sh
source "$here/lib/dns.sh"
# shellcheck source=lib/daemon.sh
source "$here/lib/daemon.sh"

for tool in ldns-keygen ldns-signzone; do
    command -v "$tool" >/dev/null || { echo "dnssec test: $tool missing (Debian package ldnsutils)" >&2; exit 1; }
done
mxw_begin dnssec_test

# --- the signed zone --------------------------------------------------------------------------------------------
zone_dir=$work/zone
mkdir -p "$zone_dir"
cat >"$zone_dir/sec.test.zone" <<'EOF'
$ORIGIN sec.test.
$TTL 300
@         IN SOA ns.sec.test. hostmaster.sec.test. ( 1 3600 600 86400 300 )
          IN NS  ns.sec.test.
          IN MX  10 mx.sec.test.
ns        IN A   127.0.0.10
mx        IN A   127.0.0.2
nullmx    IN MX  0 .
tampered  IN MX  10 mx.sec.test.
EOF
# One key signs everything (a KSK doubling as ZSK is valid DNSSEC); ECDSA P-256 keys are made in milliseconds. The
# second key never signs: an anchor made from it matches nothing the zone serves.
key=$(cd "$zone_dir" && ldns-keygen -a ECDSAP256SHA256 -k sec.test)
stranger=$(cd "$zone_dir" && ldns-keygen -a ECDSAP256SHA256 -k sec.test)
# Inception an hour back, so a clock a little behind ours cannot see the signatures as not yet valid.
(cd "$zone_dir" && ldns-signzone -i "$(date -u -d '1 hour ago' +%Y%m%d%H%M%S)" -f signed.zone sec.test.zone "$key")
# Replace the first base64 character of the one signature: still well-formed, but it no longer verifies.
awk '$1 == "tampered.sec.test." && $4 == "RRSIG" && $5 == "MX" {
         $NF = (substr($NF, 1, 1) == "A" ? "B" : "A") substr($NF, 2)
     }
     { print }' "$zone_dir/signed.zone" >"$zone_dir/served.zone"
changed=$(diff "$zone_dir/signed.zone" "$zone_dir/served.zone" | grep -c '^>' || true)
if [[ $changed != 1 ]] || ! grep -q '^tampered\.sec\.test\. .* RRSIG MX ' "$zone_dir/served.zone"; then
    echo "dnssec test: corrupting the tampered.sec.test MX signature changed $changed lines, want 1" >&2
    exit 1
fi
anchor=$zone_dir/$key.ds
stranger_anchor=$zone_dir/$stranger.ds

read -r ns < <(mxw_free_port 1)
mxw_start_nsd_with_zone "$work/nsd" "$ns" sec.test "$zone_dir/served.zone"
echo "fixtures: nsd $ns serving sec.test signed by $key, trust anchor $anchor"

# What validation needs from the forwarder: the DNSKEY set and the signatures, asked with DO as libunbound asks.
case_name=nsd
out=$(dig @127.0.0.1 -p "$ns" +dnssec +time=2 +tries=1 sec.test DNSKEY 2>&1) || true
grep -Eq '^sec\.test\.[[:space:]].*[[:space:]]DNSKEY[[:space:]]+257 ' <<<"$out" || fail "nsd serves no DNSKEY for sec.test: $out"
grep -Eq '[[:space:]]RRSIG[[:space:]]+DNSKEY ' <<<"$out" || fail "nsd serves no RRSIG over the sec.test DNSKEY: $out"
((failures == 0)) || exit 1

# begin_case NAME [--section.key=value ...]: a fresh daemon forwarding to nsd; every listener on a socket of its own.
begin_case() {
    case_name=$1
    shift
    case_failures=0
    echo "--- $case_name"
    mxw_start_daemon "$work/$case_name" "$work/$case_name.log" --listen.policy="unix:$work/$case_name/policy.sock" \
        --listen.socketmap="unix:$work/$case_name/socketmap.sock" --dns.forwarders="127.0.0.1@$ns" \
        --dns.transparent-zones="test." "$@"
}

# end_case: stop the daemon; after a failure show its log.
end_case() {
    mxw_stop_daemon || fail "mxwardend did not stop cleanly"
    if ((case_failures)); then
        echo "--- daemon log ($case_name) ---" >&2
        cat "$work/$case_name.log" >&2
    fi
}

# ask ADDRESS: the daemon's sender verdict (mxw_ask), shown.
ask() {
    mxw_ask sender "$1"
    printf '  check sender %s -> result=%s action=%s evidence="%s"\n' "$1" "$result" "$action" "$evidence"
}
want_not() { [[ ! $2 =~ $3 ]] || fail "$1 is '$2', must not match /$3/ (asked: $json)"; }

# --- validate: secure answers, and the corrupted signature is bogus ---------------------------------------------
begin_case validate --dns.dnssec=validate --dns.trust-anchor-file="$anchor"
ask x@sec.test
want_ok
want evidence "$evidence" '^MX sec\.test ok ttl=300 secure \[10 mx\.sec\.test\]$'
ask x@nullmx.sec.test
want result "$result" '^null-mx$'
want action "$action" '^reject$'
want reply "$reply" '^550 5\.7\.27 '
want evidence "$evidence" '^MX nullmx\.sec\.test ok ttl=300 secure \[0 \.\]$'
# The records are there and nsd serves them; only the signature is wrong, so trusting them would be the bug.
ask x@tampered.sec.test
want_tempfail
want evidence "$evidence" '^MX tampered\.sec\.test bogus '
want_not evidence "$evidence" 'secure|10 mx\.sec\.test'
# No anchor covers mxw.test: validation leaves it insecure, it does not make it fail.
ask x@good.mxw.test
want_ok
want evidence "$evidence" '^MX good\.mxw\.test ok ttl=300 \[10 mx1\.mxw\.test\]$'
end_case

# --- off: no validation, so the corrupted signature goes unnoticed ----------------------------------------------
begin_case off --dns.dnssec=off --dns.trust-anchor-file="$anchor"
ask x@tampered.sec.test
want_ok
want evidence "$evidence" '^MX tampered\.sec\.test ok ttl=300 \[10 mx\.sec\.test\]$'
ask x@sec.test
want_ok
want evidence "$evidence" '^MX sec\.test ok ttl=300 \[10 mx\.sec\.test\]$'
end_case

# --- an anchor for a key the zone is not signed with: nothing in sec.test validates -----------------------------
begin_case stranger-anchor --dns.dnssec=validate --dns.trust-anchor-file="$stranger_anchor"
ask x@sec.test
want_tempfail
want evidence "$evidence" '^MX sec\.test bogus '
end_case

# --- a missing anchor file is a configuration error at start-up -------------------------------------------------
# libunbound only notes the file name and reads it at its first lookup; a daemon that started anyway would answer
# every lookup with a failure. So mxwardend must refuse to start: exit 78, naming the key. It must not get ready;
# should it, timeout stops it (SIGTERM; the daemon then exits 0) and the exit status shows it ran.
case_name=missing-anchor
echo "--- $case_name"
rc=0
out=$(timeout -k 2 5 "$MXW_BUILD/mxwardend" --daemon.state-dir="$work/$case_name" \
    --listen.policy="unix:$work/$case_name/policy.sock" --listen.socketmap="unix:$work/$case_name/socketmap.sock" \
    --dns.forwarders="127.0.0.1@$ns" --dns.transparent-zones="test." --dns.dnssec=validate \
    --dns.trust-anchor-file="$work/no-such-anchor.ds" 2>&1) || rc=$?
echo "  mxwardend --dns.trust-anchor-file=$work/no-such-anchor.ds -> exit $rc: $out"
((rc == 78)) || fail "exited $rc, want 78 (EX_CONFIG)"
[[ $out == *dns.trust-anchor-file* ]] || fail "the message does not name dns.trust-anchor-file: $out"
[[ $out != *event=ready* ]] || fail "the daemon got ready without its trust anchor"

mxw_finish
