# shellcheck shell=bash
# Throwaway X.509 material for TLS tests, made with openssl into a directory the caller owns (normally under
# $work, removed with it). Nothing here is trusted anywhere but in the test that points at it. Source this file,
# then:
#
#   mxw_tls_ca DIR                 a test CA: DIR/ca.crt (certificate, for CAfile options) and DIR/ca.key
#   mxw_tls_leaf DIR NAME [ALT...] a server certificate for NAME signed by DIR's CA, with NAME and every ALT as
#                                  DNS subjectAltNames (an ALT of the form IP:a.b.c.d becomes an IP one). Writes
#                                  DIR/NAME.crt, DIR/NAME.key and DIR/NAME.pem (certificate then key, the one-file
#                                  form fixtures/smtp_peers.py starttls:PEM and smtp-sink take); prints the .pem path
#   mxw_tls_self_signed DIR NAME   like mxw_tls_leaf, but signed by its own key (for "untrusted" cases)
#   mxw_tls_fingerprint CERT       the SHA-256 fingerprint of CERT as Postfix's smtp_tls_fingerprint_digest
#                                  sha256 shows it (upper-case hex pairs joined by ':')
#
# Keys are EC P-256 (fast to make); certificates are valid from one hour ago for 2 days, so a clock a little
# off does not matter. Functions return non-zero, with openssl's message on stderr, when openssl fails.

_mxw_tls_err() {
    printf 'tls.sh: %s\n' "$*" >&2
}

# The subjectAltName value for NAME and ALTs: "DNS:a,DNS:b,IP:127.0.0.1".
_mxw_tls_san() {
    local out="DNS:$1" alt
    shift
    for alt in "$@"; do
        if [[ $alt == IP:* ]]; then out+=",$alt"; else out+=",DNS:$alt"; fi
    done
    printf '%s' "$out"
}

mxw_tls_ca() {
    local dir=${1:?usage: mxw_tls_ca DIR}
    mkdir -p "$dir" || return
    openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$dir/ca.key" \
        -out "$dir/ca.crt" -days 2 -subj "/CN=mxwarden test CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        2>"$dir/openssl.log" || { cat "$dir/openssl.log" >&2; _mxw_tls_err "cannot make the CA in $dir"; return 1; }
}

# _mxw_tls_make DIR NAME SIGN ALT...: SIGN is "ca" (signed by DIR/ca.*) or "self".
_mxw_tls_make() {
    local dir=$1 name=$2 sign=$3 san
    shift 3
    [[ $name =~ ^[A-Za-z0-9._-]+$ ]] || { _mxw_tls_err "bad certificate name '$name'"; return 1; }
    san=$(_mxw_tls_san "$name" "$@")
    if [[ $sign == self ]]; then
        openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$dir/$name.key" \
            -out "$dir/$name.crt" -days 2 -subj "/CN=$name" -addext "subjectAltName=$san" \
            2>"$dir/openssl.log" || { cat "$dir/openssl.log" >&2; return 1; }
    else
        [[ -r $dir/ca.key ]] || { _mxw_tls_err "no CA in $dir; call mxw_tls_ca first"; return 1; }
        openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$dir/$name.key" \
            -out "$dir/$name.csr" -subj "/CN=$name" 2>"$dir/openssl.log" || { cat "$dir/openssl.log" >&2; return 1; }
        openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
            -out "$dir/$name.crt" -days 2 -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san") \
            2>"$dir/openssl.log" || { cat "$dir/openssl.log" >&2; return 1; }
        rm -f "$dir/$name.csr"
    fi
    cat "$dir/$name.crt" "$dir/$name.key" >"$dir/$name.pem" || return
    # smtp-sink and Postfix drop root before they read it.
    chmod 0644 "$dir/$name.pem" "$dir/$name.key" "$dir/$name.crt"
    printf '%s\n' "$dir/$name.pem"
}

mxw_tls_leaf() {
    local dir=${1:?usage: mxw_tls_leaf DIR NAME [ALT...]} name=${2:?usage: mxw_tls_leaf DIR NAME [ALT...]}
    shift 2
    _mxw_tls_make "$dir" "$name" ca "$@"
}

mxw_tls_self_signed() {
    local dir=${1:?usage: mxw_tls_self_signed DIR NAME} name=${2:?usage: mxw_tls_self_signed DIR NAME}
    mkdir -p "$dir" || return
    _mxw_tls_make "$dir" "$name" self
}

mxw_tls_fingerprint() {
    openssl x509 -in "${1:?usage: mxw_tls_fingerprint CERT}" -noout -fingerprint -sha256 | sed 's/^[^=]*=//'
}
