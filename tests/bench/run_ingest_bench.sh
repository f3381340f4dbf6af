#!/usr/bin/env bash
# Quarantine ingest benchmark (issue 12): MESSAGES messages of about
# MESSAGE_BYTES each through `mxwarden quarantine ingest`, into SQLite (no
# store.url) and into PostgreSQL (store.url), one at a time and with several
# ingesters at once (the mxq entry in master.cf lets Postfix run 10 pipe(8)
# processes). About 5 minutes on a busy 2-core machine: 4 000 ingests and
# 2 000 process starts.
#
# usage: run_ingest_bench.sh BUILD_DIR      (BUILD_DIR/mxwarden is the CLI)
#
# Each ingest is one process, as pipe(8) starts it: a /bin/sh that opens the
# message on stdin and execs mxwarden, started by xargs -P. The time counted
# is the wall time of the whole batch: process start, the configuration, the
# evidence request, opening the store (and, for PostgreSQL, connecting and
# checking the schema), the transaction up to its commit, exit. No mxwardend
# runs: the evidence request (ask_evidence, 2 s budget) fails at once on the
# missing control socket, so every entry is stored without evidence; with a
# daemon each ingest would also wait for its answer to `route DOMAIN json`.
# A row "process start only" runs the same driver with /bin/true in place of
# mxwarden, the part of each figure that is not mxwarden's.
#
# Every configuration starts from an empty store made by one ingest before the
# clock starts (the SQLite file created, the PostgreSQL schema migrated), and
# ends with a check that every message is there once.
#
# PostgreSQL is a throwaway 15 (../integration/lib/pg.sh), reached over its
# unix socket, with fsync turned back on (lib/pg.sh turns it off) so that both
# stores make each commit durable before ingest exits 0: SQLite with
# synchronous=FULL in WAL mode, PostgreSQL with synchronous_commit on. Both
# write to the same disk.
set -euo pipefail

MESSAGES=1000
MESSAGE_BYTES=20480
PARALLEL=(1 8)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../integration/lib/pg.sh
source "$here/../integration/lib/pg.sh"

die() {
    echo "run_ingest_bench: $*" >&2
    exit 1
}
[[ $# -eq 1 ]] || die "usage: run_ingest_bench.sh BUILD_DIR"
BUILD_DIR=$(realpath "$1")
CLI=$BUILD_DIR/mxwarden
[[ -x $CLI ]] || die "$CLI not found"

mxw_begin run_ingest_bench
# shellcheck disable=SC2154 # work: set by mxw_begin
mxw_start_pg "$work/pg"
cat >>"$MXW_PG_DIR/data/postgresql.conf" <<'EOF'
# run_ingest_bench: commits as durable as SQLite's
fsync = on
full_page_writes = on
EOF
mxw_restart_pg
[[ $(mxw_psql "SHOW fsync") == on ]] || die "PostgreSQL still runs with fsync off"

# The messages: distinct Message-IDs and queue IDs, so none is a duplicate.
"$MXW_PYTHON" - "$work/msgs" "$MESSAGES" "$MESSAGE_BYTES" <<'EOF'
import base64, os, random, sys
out, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(out)
rng = random.Random(12)
for i in range(count + 1):
    name = "init" if i == count else str(i)
    head = (f"From: Sender <sender@bench.test>\r\nTo: rcpt{name}@d{name}.bench.test\r\n"
            f"Subject: ingest bench {name}\r\nMessage-ID: <{name}.ingest@bench.test>\r\n"
            "Date: Sun, 06 Dec 2026 12:00:00 +0000\r\nMIME-Version: 1.0\r\n"
            "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n")
    body = base64.encodebytes(rng.randbytes(size * 3 // 4 - len(head))).replace(b"\n", b"\r\n")
    with open(f"{out}/{name}.eml", "wb") as f:
        f.write(head.encode() + body)
EOF

# The pipe(8) stand-in: ingest_one N ingests message N with $MXW_BENCH_CONF.
cat >"$work/ingest_one" <<'EOF'
#!/bin/sh
exec "$MXW_BENCH_CLI" -c "$MXW_BENCH_CONF" quarantine ingest --queue-id "Q$1" --reason bench \
    --sender sender@bench.test -- "rcpt$1@d$1.bench.test" <"$MXW_BENCH_MSGS/$1.eml"
EOF
chmod 0755 "$work/ingest_one"
export MXW_BENCH_MSGS=$work/msgs

# config NAME [STORE_URL]: a configuration with its own state directory (no
# control socket there: no daemon); prints its path.
config() {
    local state=$work/$1
    mkdir -p "$state"
    {
        echo "[daemon]"
        echo "state-dir = $state"
        if [[ -n ${2:-} ]]; then
            echo "[store]"
            echo "url = $2"
            echo "node = bench"
        fi
    } >"$state/mxwarden.conf"
    echo "$state/mxwarden.conf"
}

ROWS=()
# measure LABEL P CLI CONF: MESSAGES ingests, P at once; a row in ROWS.
measure() {
    local label=$1 p=$2 start end ms rate status=0
    export MXW_BENCH_CLI=$3 MXW_BENCH_CONF=$4
    echo "run_ingest_bench: $label, $p at once" >&2
    start=$(date +%s%N)
    seq 0 $((MESSAGES - 1)) | xargs -P "$p" -n 1 "$work/ingest_one" >"$work/ingest.out" 2>"$work/ingest.err" ||
        status=$?
    end=$(date +%s%N)
    ((status == 0)) || { tail -n 5 "$work/ingest.err" >&2; die "$label, $p at once: an ingest failed (xargs $status)"; }
    ms=$(((end - start) / 1000000))
    rate=$(awk -v n="$MESSAGES" -v ms="$ms" 'BEGIN { printf "%.0f", n * 1000 / ms }')
    ROWS+=("| $label | $p | $(awk -v ms="$ms" 'BEGIN { printf "%.1f", ms / 1000 }') | $rate | $(awk -v ms="$ms" -v n="$MESSAGES" -v p="$p" 'BEGIN { printf "%.1f", ms * p / n }') |")
    echo "  $ms ms, $rate messages/s" >&2
}

# check CONF: every message stored once (and the one made before the clock).
check() {
    local n
    n=$("$CLI" -c "$1" quarantine list --state all --json | grep -o '"id":' | wc -l)
    ((n == MESSAGES + 1)) || die "$n entries in the store of $1, expected $((MESSAGES + 1))"
}

for p in "${PARALLEL[@]}"; do
    measure "process start only" "$p" /bin/true /dev/null
done
for p in "${PARALLEL[@]}"; do
    conf=$(config "sqlite-$p")
    MXW_BENCH_CLI=$CLI MXW_BENCH_CONF=$conf "$work/ingest_one" init >/dev/null || die "first ingest into SQLite failed"
    measure SQLite "$p" "$CLI" "$conf"
    check "$conf"
    SQLITE_BYTES=$(du -cb "$work/sqlite-$p"/quarantine.db* | tail -n 1 | cut -f 1)

    conf=$(config "pg-$p" "$MXW_PG_URL")
    mxw_psql "SET client_min_messages = warning; DROP SCHEMA IF EXISTS mxwarden CASCADE" >/dev/null
    MXW_BENCH_CLI=$CLI MXW_BENCH_CONF=$conf "$work/ingest_one" init >/dev/null ||
        die "first ingest into PostgreSQL failed"
    measure PostgreSQL "$p" "$CLI" "$conf"
    check "$conf"
    PG_BYTES=$(mxw_psql "SELECT pg_database_size('mxwarden')")
done

echo
echo "| store | ingesters at once | total s | messages/s | ms per message per ingester |"
echo "|---|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
echo
echo "$MESSAGES messages of $(stat -c %s "$work/msgs/0.eml") bytes; no mxwardend running (no evidence asked for successfully)."
echo "Store size after $((MESSAGES + 1)) entries: SQLite $SQLITE_BYTES bytes (quarantine.db and its WAL), PostgreSQL $PG_BYTES bytes (the whole database)."
mxw_finish
