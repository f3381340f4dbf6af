# shellcheck shell=bash
# DNS fixtures for the integration tests: nsd serving tests/integration/zones, and fixtures/faultdns.py in front
# of it. Source this file, then:
#
#   read -r dns_port fault_port < <(mxw_free_port 2)
#   mxw_start_nsd "$dir" "$dns_port" [127.0.0.10@53]       sets MXW_NSD_PID, MXW_NSD_LOG
#   mxw_start_faultdns "$dir" "$fault_port" "$dns_port" [--udp tc|edns|silent|answer] [--tcp refuse|close|silent|answer]
#                                                           sets MXW_FAULTDNS_PID, MXW_FAULTDNS_LOG
#
#   mxw_dns_cleanup                                         stop them now (they stop anyway when the script exits)
#
# Call the start functions directly, never inside $(...): they record the PIDs they start, which a subshell would
# lose, and nothing could stop them then. Everything listens on 127.0.0.0/8 only.

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
MXW_ZONES_DIR=$(cd "$MXW_LIB_DIR/../zones" && pwd)
MXW_FAULTDNS=$MXW_FIXTURES/faultdns.py
MXW_DNS_PIDS=()

# dig prints its errors to stdout too, so compare with the expected record rather than testing for output.
_mxw_nsd_answers() {
    [[ $(dig @127.0.0.1 -p "$1" +time=1 +tries=1 +short good.mxw.test MX 2>/dev/null) == "10 mx1.mxw.test." ]]
}

# mxw_start_nsd DIR PORT [EXTRA_ADDR]: run nsd on 127.0.0.1@PORT (UDP and TCP), and also on EXTRA_ADDR (IP@PORT,
# e.g. 127.0.0.10@53) if given. DIR holds the config, log and state files. Returns once nsd answers.
mxw_start_nsd() {
    local dir=$1 port=$2 extra=${3:-}
    local listen="ip-address: 127.0.0.1@$port"
    if [[ -n $extra ]]; then
        [[ $extra == 127.* ]] || { echo "mxw-dns: nsd may only listen on 127.0.0.0/8, not $extra" >&2; return 1; }
        listen+="\n  ip-address: $extra"
    fi
    mkdir -p "$dir"
    sed -e "s|@LISTEN@|$listen|" -e "s|@STATE_DIR@|$dir|g" -e "s|@ZONES_DIR@|$MXW_ZONES_DIR|g" \
        "$MXW_ZONES_DIR/nsd.conf.in" >"$dir/nsd.conf"
    MXW_NSD_LOG=$dir/nsd.log
    nsd-checkconf "$dir/nsd.conf" >>"$MXW_NSD_LOG" 2>&1 || {
        echo "mxw-dns: bad nsd config $dir/nsd.conf:" >&2
        cat "$MXW_NSD_LOG" >&2
        return 1
    }
    # -d keeps nsd in the foreground, so $! is the main nsd process; SIGTERM to it stops its children too.
    nsd -d -c "$dir/nsd.conf" >>"$MXW_NSD_LOG" 2>&1 &
    MXW_NSD_PID=$!
    MXW_DNS_PIDS+=("$MXW_NSD_PID")
    mxw_track_pid "$MXW_NSD_PID"
    _mxw_await 10 "nsd answering on port $port" "$MXW_NSD_PID" "$MXW_NSD_LOG" _mxw_nsd_answers "$port"
}

# mxw_start_nsd_with_zone DIR PORT ZONE FILE [EXTRA_ADDR]: mxw_start_nsd, serving one more zone ZONE from FILE
# (an absolute path) besides the fixed test zones; for zone data a test makes at run time, like signed zones.
# The shared zones directory stays untouched: DIR/zones gets links to its zone files and a template with the
# extra zone appended, and mxw_start_nsd reads that instead.
mxw_start_nsd_with_zone() {
    local dir=$1 port=$2 zone=$3 file=$4 extra=${5:-}
    [[ $file == /* ]] || { echo "mxw-dns: give the zone file as an absolute path, not $file" >&2; return 1; }
    local zones=$dir/zones
    mkdir -p "$zones"
    ln -sf "$MXW_ZONES_DIR"/*.zone "$zones/"
    { cat "$MXW_ZONES_DIR/nsd.conf.in"; printf '\nzone:\n  name: "%s"\n  zonefile: "%s"\n' "$zone" "$file"; } \
        >"$zones/nsd.conf.in"
    # mxw_start_nsd sees this through bash's dynamic scoping; the global keeps its value.
    local MXW_ZONES_DIR=$zones
    mxw_start_nsd "$dir" "$port" "$extra"
}

# mxw_start_faultdns DIR PORT UPSTREAM_PORT [faultdns.py options...]: run the fault-injecting proxy on
# 127.0.0.1:PORT in front of nsd on 127.0.0.1@UPSTREAM_PORT. Options: --udp MODE, --tcp MODE, --addr IP.
# Its per-query log is DIR/faultdns-PORT.log. Returns once it listens.
mxw_start_faultdns() {
    local dir=$1 port=$2 upstream=$3
    shift 3
    mkdir -p "$dir"
    local ready=$dir/faultdns-$port.ready
    rm -f "$ready"
    MXW_FAULTDNS_LOG=$dir/faultdns-$port.log
    "$MXW_PYTHON" "$MXW_FAULTDNS" --port "$port" --upstream-port "$upstream" --ready-file "$ready" "$@" \
        >>"$MXW_FAULTDNS_LOG" 2>&1 &
    MXW_FAULTDNS_PID=$!
    MXW_DNS_PIDS+=("$MXW_FAULTDNS_PID")
    mxw_track_pid "$MXW_FAULTDNS_PID"
    mxw_wait_file 10 "$ready" "$MXW_FAULTDNS_PID" "$MXW_FAULTDNS_LOG"
}

# mxw_dns_cleanup: stop every process the start functions started (SIGTERM, then SIGKILL after 5 s) and reap them.
mxw_dns_cleanup() {
    local pid
    for pid in "${MXW_DNS_PIDS[@]}"; do mxw_stop_pid "$pid" || true; done
    MXW_DNS_PIDS=()
}
