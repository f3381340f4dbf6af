# shellcheck shell=bash
# DANE fixtures: a DNSSEC-signed zone with TLSA records, a validating resolver in front of it, and a STARTTLS peer
# whose certificate those records pin. Postfix believes a DNS answer only by the AD bit its resolver sets, so a
# signed zone alone is not enough: Postfix must ask an unbound that validates the zone against its trust anchor.
# Source this file, then:
#
#   mxw_dane_cert DIR NAME                 a self-signed certificate for NAME: DIR/NAME.crt, DIR/NAME.key
#   mxw_dane_spki_sha256 CERT              the SHA-256 of CERT's public key (SPKI) in hex: the data of a
#                                          "TLSA 3 1 1" (DANE-EE, SPKI, SHA-256) record
#   mxw_dane_zone DIR ZONE MXNAME ADDR CERT [RECORD...]
#                                          write and sign ZONE (MX 10 MXNAME, MXNAME A ADDR, _25._tcp.MXNAME TLSA
#                                          3 1 1 for CERT, and each RECORD line, relative to ZONE), in DIR; sets
#                                          MXW_DANE_SIGNED (the signed zone file) and MXW_DANE_ANCHOR (a file with
#                                          the DS record of its key, the trust anchor)
#   mxw_start_validating_resolver DIR LISTEN NSD_PORT ZONE ANCHOR_FILE
#                                          unbound on LISTEN (IP@PORT, e.g. 127.0.0.10@53), validating ZONE, which
#                                          it asks of nsd on 127.0.0.1@NSD_PORT, with ANCHOR_FILE as its only trust
#                                          anchor; every other name is refused. Sets MXW_UNBOUND_PID, MXW_UNBOUND_LOG
#   mxw_dane_secure LISTEN NAME TYPE       0 if the resolver on LISTEN answers NAME TYPE with data and the AD bit
#   mxw_start_tls_peer DIR ADDR NAME CERT KEY RESOLV_NS
#                                          a private Postfix that takes mail by SMTP with STARTTLS on ADDR:25
#                                          (e.g. 127.0.0.45), presenting CERT, greeting as NAME, and discards what
#                                          it takes; its log is DIR/maillog
#
# Call the start functions directly, never inside $(...) (lib/dns.sh says why). Everything listens on 127.0.0.0/8.

# shellcheck source-path=SCRIPTDIR source=postfix.sh
source "$(dirname "${BASH_SOURCE[0]}")/postfix.sh"

mxw_dane_cert() {
    local dir=${1:?usage: mxw_dane_cert DIR NAME} name=${2:?usage: mxw_dane_cert DIR NAME}
    mkdir -p "$dir"
    # A DANE-EE record pins the key itself, so neither the issuer nor the dates matter; P-256 is made at once.
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=$name" \
        -keyout "$dir/$name.key" -out "$dir/$name.crt" 2>"$dir/$name.openssl.log" || {
        cat "$dir/$name.openssl.log" >&2
        return 1
    }
}

mxw_dane_spki_sha256() {
    local cert=${1:?usage: mxw_dane_spki_sha256 CERT} digest
    digest=$(openssl x509 -in "$cert" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum) || return
    printf '%s\n' "${digest%% *}"
}

mxw_dane_zone() {
    (($# >= 5)) || { echo "usage: mxw_dane_zone DIR ZONE MXNAME ADDR CERT [RECORD...]" >&2; return 1; }
    local dir=$1 zone=$2 mx=$3 addr=$4 cert=$5 digest key record
    shift 5
    [[ $mx == *".$zone" ]] || { echo "mxw_dane_zone: $mx is not inside $zone" >&2; return 1; }
    digest=$(mxw_dane_spki_sha256 "$cert") || return
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    # shellcheck disable=SC2016  # $ORIGIN and $TTL are zone file directives
    {
        printf '$ORIGIN %s.\n$TTL 300\n' "$zone"
        printf '@ IN SOA ns.%s. hostmaster.%s. ( 1 3600 600 86400 300 )\n' "$zone" "$zone"
        printf '@ IN NS ns.%s.\n' "$zone"
        printf 'ns IN A 127.0.0.10\n'
        printf '@ IN MX 10 %s.\n' "$mx"
        printf '%s. IN A %s\n' "$mx" "$addr"
        printf '_25._tcp.%s. IN TLSA 3 1 1 %s\n' "$mx" "$digest"
        for record in "$@"; do printf '%s\n' "$record"; done
    } >"$dir/$zone.zone"
    # The same approach as dnssec_test: one ECDSA key (made in milliseconds) signs everything, and the signatures
    # start an hour back so that a clock a little behind ours still finds them valid.
    key=$(cd "$dir" && ldns-keygen -a ECDSAP256SHA256 -k "$zone") || return
    (cd "$dir" && ldns-signzone -i "$(date -u -d '1 hour ago' +%Y%m%d%H%M%S)" -f "$zone.signed" "$zone.zone" \
        "$key") || return
    # shellcheck disable=SC2034  # for the caller
    MXW_DANE_SIGNED=$dir/$zone.signed
    # shellcheck disable=SC2034  # for the caller
    MXW_DANE_ANCHOR=$dir/$key.ds
}

mxw_dane_secure() {
    local listen=${1:?usage: mxw_dane_secure LISTEN NAME TYPE} out
    out=$(dig @"${listen%@*}" -p "${listen##*@}" +dnssec +time=2 +tries=1 "${2:?}" "${3:?}" 2>&1) || return 1
    grep -Eq '^;; flags:[^;]* ad[ ;]' <<<"$out" &&
        grep -Eq "^${2//./\\.}\.?[[:space:]].*[[:space:]]$3[[:space:]]" <<<"$out"
}

# The resolver is ready once it answers at all; whether the answer validates is for the test to check.
_mxw_unbound_answers() {
    dig @"${1%@*}" -p "${1##*@}" +time=1 +tries=1 "$2" SOA 2>/dev/null | grep -q 'status: '
}

mxw_start_validating_resolver() {
    (($# == 5)) || { echo "usage: mxw_start_validating_resolver DIR LISTEN NSD_PORT ZONE ANCHOR_FILE" >&2; return 1; }
    local dir=$1 listen=$2 nsd_port=$3 zone=$4 anchor=$5
    [[ $listen == 127.*@* ]] ||
        { echo "mxw-dane: unbound may only listen on 127.0.0.0/8 (IP@PORT), not $listen" >&2; return 1; }
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    # Foreground, as the invoking user, no chroot, every file in DIR. No root hints are ever used: "." is refused
    # locally, so only the stub zone is resolved (the more specific local zones for ZONE and under "test." open
    # it again). Unbound's built-in defaults (127.in-addr.arpa, localhost) still answer from memory.
    cat >"$dir/unbound.conf" <<EOF
server:
  interface: ${listen%@*}
  port: ${listen##*@}
  do-ip6: no
  username: ""
  chroot: ""
  directory: "$dir"
  pidfile: "$dir/unbound.pid"
  logfile: ""
  use-syslog: no
  verbosity: 1
  val-log-level: 2
  num-threads: 1
  so-reuseport: no
  outgoing-range: 64
  # The stub's address is on loopback, which unbound skips by default.
  do-not-query-localhost: no
  module-config: "validator iterator"
  trust-anchor-file: "$anchor"
  local-zone: "." refuse
  local-zone: "test." nodefault
  local-zone: "$zone." transparent
remote-control:
  control-enable: no
stub-zone:
  name: "$zone"
  stub-addr: 127.0.0.1@$nsd_port
EOF
    MXW_UNBOUND_LOG=$dir/unbound.log
    unbound-checkconf "$dir/unbound.conf" >>"$MXW_UNBOUND_LOG" 2>&1 || {
        echo "mxw-dane: bad unbound config $dir/unbound.conf:" >&2
        cat "$MXW_UNBOUND_LOG" >&2
        return 1
    }
    unbound -d -c "$dir/unbound.conf" >>"$MXW_UNBOUND_LOG" 2>&1 &
    MXW_UNBOUND_PID=$!
    MXW_DNS_PIDS+=("$MXW_UNBOUND_PID")
    mxw_track_pid "$MXW_UNBOUND_PID"
    _mxw_await 10 "unbound answering on $listen" "$MXW_UNBOUND_PID" "$MXW_UNBOUND_LOG" \
        _mxw_unbound_answers "$listen" "$zone"
}

mxw_start_tls_peer() {
    (($# == 6)) || { echo "usage: mxw_start_tls_peer DIR ADDR NAME CERT KEY RESOLV_NS" >&2; return 1; }
    local dir=$1 addr=$2 name=$3 cert=$4 key=$5 ns=$6 port
    [[ $addr == 127.* ]] || { echo "mxw-dane: the TLS peer may only listen on 127.0.0.0/8, not $addr" >&2; return 1; }
    # mxw_postfix_start waits for the instance's smtpd on 127.0.0.1:PORT; the peer's own listener is added beside.
    read -r port < <(mxw_free_port 1)
    mxw_postfix_create "$dir" "$port" || return
    # It greets as NAME: a greeting with the sender's own myhostname would be taken as a mail loop. Every loopback
    # client may relay through it, and all it relays goes to discard(8).
    mxw_postfix_conf "$dir" "myhostname = $name" "mynetworks = 127.0.0.0/8" "default_transport = discard" \
        "smtpd_peername_lookup = no" \
        "smtpd_tls_security_level = may" "smtpd_tls_cert_file = $cert" "smtpd_tls_key_file = $key" \
        "smtpd_tls_loglevel = 1" || return
    mxw_postfix_service "$dir" "$addr:25/inet = $addr:25 inet n - n - - smtpd" || return
    mxw_postfix_start "$dir" "$ns" || return
    mxw_wait_listen 10 "$addr:25" "" "$dir/maillog"
}
