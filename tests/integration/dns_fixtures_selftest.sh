#!/bin/bash
# Self test of the DNS fixtures (nsd with the test zones, and faultdns.py): checks with dig that every record of the
# test contract is served and that each fault mode behaves as the transport tests expect. Run it after changing
# zones/, fixtures/faultdns.py or lib/dns.sh. Only ever queries its own servers on 127.0.0.0/8.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/dns.sh
source "$here/lib/dns.sh"

mxw_begin dns_fixtures_selftest

# q SERVER PORT NAME TYPE [dig options...]: one query, no retries, output in $out (dig's status in $dig_rc).
q() {
    local server=$1 port=$2 name=$3 type=$4
    shift 4
    dig_rc=0
    out=$(dig @"$server" -p "$port" +norecurse +time=2 +tries=1 "$@" "$name" "$type" 2>&1) || dig_rc=$?
    what="$name $type @$server:$port $*"
}

expect_status() { grep -q "status: $1," <<<"$out" || fail "$what: want status $1, got: $(grep -o 'status: [A-Z]*' <<<"$out" || echo "no reply ($dig_rc)")"; }
expect_answers() { grep -q "ANSWER: $1," <<<"$out" || fail "$what: want $1 answer records, got: $(grep -o 'ANSWER: [0-9]*' <<<"$out" || echo "no reply ($dig_rc)")"; }
expect_record() { grep -Eq "^$1" <<<"$out" || fail "$what: no record matching '$1'"; }
expect_flag() { grep -Eq "^;; flags:[a-z ]* $1[ ;]" <<<"$out" || fail "$what: flag $1 missing: $(grep '^;; flags' <<<"$out" || echo "no reply ($dig_rc)")"; }
expect_no_flag() { ! grep -Eq "^;; flags:[a-z ]* $1[ ;]" <<<"$out" || fail "$what: unexpected flag $1"; }
expect_no_reply() {
    if ((dig_rc == 0)) || grep -q 'status:' <<<"$out"; then fail "$what: expected no reply, got one"; fi
}
expect_msg_size_over() {
    local size
    size=$(sed -n 's/^;; MSG SIZE *rcvd: //p' <<<"$out")
    ((${size:-0} > $1)) || fail "$what: reply size ${size:-none}, want > $1"
}
# expect_log PORT PATTERN: faultdns on PORT logged a line matching PATTERN.
expect_log() { grep -Eq "$2" "$work/faultdns-$1.log" || fail "faultdns:$1 log has no line matching '$2'"; }

read -r ns fd_default fd_tc fd_answer fd_silent < <(mxw_free_port 5)

# nsd also on 127.0.0.10 (as Postfix's resolver would use it), but on the test's port rather than 53 so the self
# test never collides with a running Postfix test.
mxw_start_nsd "$work/nsd" "$ns" "127.0.0.10@$ns"
mxw_start_faultdns "$work" "$fd_default" "$ns"
mxw_start_faultdns "$work" "$fd_tc" "$ns" --udp tc --tcp refuse
mxw_start_faultdns "$work" "$fd_answer" "$ns" --udp answer --tcp close
mxw_start_faultdns "$work" "$fd_silent" "$ns" --udp silent --tcp silent
echo "fixtures up after $((SECONDS - mxw_started))s: nsd $ns, faultdns default $fd_default, tc/refuse $fd_tc," \
    "answer/close $fd_answer, silent/silent $fd_silent"

# --- nsd serves the contract's data ---
N=127.0.0.1
q $N "$ns" good.mxw.test MX;       expect_status NOERROR; expect_flag aa; expect_record 'good\.mxw\.test\.\s+300\s+IN\s+MX\s+10 mx1\.mxw\.test\.'
q $N "$ns" two-mx.mxw.test MX;     expect_answers 2; expect_record '.*MX\s+10 mx1\.mxw\.test\.'; expect_record '.*MX\s+20 mx2\.mxw\.test\.'
q $N "$ns" mx1.mxw.test A;         expect_record 'mx1\.mxw\.test\.\s+300\s+IN\s+A\s+127\.0\.0\.2$'
q $N "$ns" mx2.mxw.test A;         expect_record 'mx2\.mxw\.test\.\s+300\s+IN\s+A\s+127\.0\.0\.3$'
q $N "$ns" nullmx.mxw.test MX;     expect_answers 1; expect_record 'nullmx\.mxw\.test\.\s+300\s+IN\s+MX\s+0 \.$'
q $N "$ns" aonly.mxw.test MX;      expect_status NOERROR; expect_answers 0
q $N "$ns" aonly.mxw.test A;       expect_record 'aonly\.mxw\.test\.\s+300\s+IN\s+A\s+127\.0\.0\.5$'
q $N "$ns" v6only.mxw.test AAAA;   expect_record 'v6only\.mxw\.test\.\s+300\s+IN\s+AAAA\s+2001:db8::25$'
q $N "$ns" v6only.mxw.test A;      expect_status NOERROR; expect_answers 0
for t in MX A AAAA; do
    q $N "$ns" nomail.mxw.test $t; expect_status NOERROR; expect_answers 0; expect_record 'mxw\.test\.\s+300\s+IN\s+SOA'
done
q $N "$ns" nomail.mxw.test TXT;    expect_record 'nomail\.mxw\.test\.\s+300\s+IN\s+TXT\s+"no mail here"$'
q $N "$ns" alias.mxw.test MX;      expect_record 'alias\.mxw\.test\.\s+300\s+IN\s+CNAME\s+good\.mxw\.test\.$'; expect_record 'good\.mxw\.test\..*MX\s+10 mx1'
q $N "$ns" nonexist.mxw.test MX;   expect_status NXDOMAIN
q $N "$ns" client-ok.mxw.test A;     expect_record 'client-ok\.mxw\.test\..*A\s+127\.0\.0\.20$'
q $N "$ns" client-forged.mxw.test A; expect_record 'client-forged\.mxw\.test\..*A\s+127\.0\.0\.99$'
q $N "$ns" client-noaddr.mxw.test A; expect_status NXDOMAIN
q $N "$ns" 20.0.0.127.in-addr.arpa PTR; expect_record '20\.0\.0\.127\.in-addr\.arpa\.\s+300\s+IN\s+PTR\s+client-ok\.mxw\.test\.$'
q $N "$ns" 21.0.0.127.in-addr.arpa PTR; expect_record '21\.0\.0\.127\.in-addr\.arpa\.\s+300\s+IN\s+PTR\s+client-forged\.mxw\.test\.$'
q $N "$ns" 22.0.0.127.in-addr.arpa PTR; expect_status NXDOMAIN
q $N "$ns" 23.0.0.127.in-addr.arpa PTR; expect_record '23\.0\.0\.127\.in-addr\.arpa\.\s+300\s+IN\s+PTR\s+client-noaddr\.mxw\.test\.$'
q $N "$ns" big.mxw.test MX +tcp;   expect_answers 40; expect_msg_size_over 2600
q $N "$ns" big.mxw.test MX +ignore +bufsize=1232; expect_flag tc
q $N "$ns" big.mxw.test MX +ignore +bufsize=4096; expect_no_flag tc; expect_answers 40
q 127.0.0.10 "$ns" good.mxw.test MX; expect_record 'good\.mxw\.test\..*MX\s+10 mx1\.mxw\.test\.'

# --- faultdns, default modes (--udp edns --tcp answer) ---
F=$fd_default
q $N "$F" good.mxw.test MX;                 expect_status NOERROR; expect_record 'good\.mxw\.test\..*MX\s+10 mx1'
q $N "$F" x.servfail.mxw.test MX;           expect_status SERVFAIL
q $N "$F" servfail.mxw.test A +tcp;         expect_status SERVFAIL
q $N "$F" nonexist.mxw.test MX;             expect_status NXDOMAIN
q $N "$F" big.mxw.test MX +ignore +bufsize=4096; expect_no_flag tc; expect_answers 40; expect_msg_size_over 2600
q $N "$F" big.mxw.test MX +ignore +bufsize=1232; expect_flag tc; expect_answers 0
q $N "$F" big.mxw.test MX +ignore +noedns;  expect_flag tc
q $N "$F" big.mxw.test MX +tcp;             expect_answers 40
q $N "$F" big.mxw.test MX +bufsize=1232;    expect_answers 40   # dig's own UDP->TCP retry after TC
q $N "$F" x.silent.mxw.test MX +time=1;     expect_no_reply
expect_log "$F" '^udp q=big\.mxw\.test MX -> tc '
expect_log "$F" '^tcp q=big\.mxw\.test MX -> answer '
expect_log "$F" '^udp q=x\.servfail\.mxw\.test MX -> servfail '
expect_log "$F" '^udp q=x\.silent\.mxw\.test MX -> silent '
expect_log "$F" '\(udp=[0-9]+ tcp=[0-9]+\)$'

# --- --udp tc --tcp refuse ---
F=$fd_tc
q $N "$F" good.mxw.test MX +ignore +notcp;  expect_flag tc; expect_answers 0
q $N "$F" servfail.mxw.test MX +ignore;     expect_status SERVFAIL
t0=$(date +%s%N)
q $N "$F" good.mxw.test MX +tcp
expect_no_reply
grep -qi 'refused' <<<"$out" || fail "$what: dig does not report a refused connection: $out"
(( ($(date +%s%N) - t0) / 1000000 < 1000 )) || fail "$what: refused TCP took longer than 1 s"
expect_log "$F" '^udp q=good\.mxw\.test MX -> tc \(udp=1 tcp=0\)$'

# --- --udp answer --tcp close ---
F=$fd_answer
q $N "$F" big.mxw.test MX +ignore +noedns;  expect_no_flag tc; expect_answers 40; expect_msg_size_over 2600
q $N "$F" good.mxw.test MX +tcp;            expect_no_reply
expect_log "$F" '^tcp q=good\.mxw\.test MX -> close '

# --- --udp silent --tcp silent ---
F=$fd_silent
q $N "$F" good.mxw.test MX +time=1;         expect_no_reply
q $N "$F" good.mxw.test MX +tcp +time=1;    expect_no_reply
expect_log "$F" '^udp q=good\.mxw\.test MX -> silent '
expect_log "$F" '^tcp q=good\.mxw\.test MX -> silent '

nsd_pid=$MXW_NSD_PID
mxw_dns_cleanup
! kill -0 "$nsd_pid" 2>/dev/null || fail "nsd still running after cleanup"
! pgrep -f "$work/nsd/nsd.conf" >/dev/null || fail "nsd child processes still running after cleanup"
grep -q '^faultdns stop signal=SIGTERM' "$work/faultdns-$fd_default.log" || fail "faultdns did not stop on SIGTERM"

mxw_finish
