#!/usr/bin/env bash
# Web listing benchmark: the quarantine's page() and count() (what
# mxwarden-web asks for each screen) with ENTRIES entries, on SQLite and on
# PostgreSQL. web_list_bench fills an empty store through the store API and
# prints, for the first page and for each single filter, the median time of
# RUNS runs. A few minutes on a busy 2-core machine, most of it filling
# PostgreSQL one ingest (one transaction) at a time.
#
# usage: run_web_list_bench.sh BUILD_DIR [ENTRIES] [RUNS]
#                                          (BUILD_DIR/web_list_bench)
#
# The SQLite store is a file in the work directory, filled with
# synchronous=OFF (the fill is not what is measured) and never analyzed
# (mxwarden does not run ANALYZE on its file). PostgreSQL is a throwaway 15
# (../integration/lib/pg.sh) over its unix socket, analyzed after the fill
# as autovacuum does soon after any bulk of inserts.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../integration/lib/pg.sh
source "$here/../integration/lib/pg.sh"

die() {
    echo "run_web_list_bench: $*" >&2
    exit 1
}
[[ $# -ge 1 && $# -le 3 ]] || die "usage: run_web_list_bench.sh BUILD_DIR [ENTRIES] [RUNS]"
BENCH=$(realpath "$1")/web_list_bench
ENTRIES=${2:-100000}
RUNS=${3:-7}
[[ -x $BENCH ]] || die "$BENCH not found"

mxw_begin run_web_list_bench
# shellcheck disable=SC2154 # work: set by mxw_begin
echo "== SQLite"
"$BENCH" fill "sqlite:$work/sqlite/quarantine.db" "$ENTRIES"
"$BENCH" measure "sqlite:$work/sqlite/quarantine.db" "$RUNS"
echo "store size: $(du -cb "$work/sqlite"/quarantine.db* | tail -n 1 | cut -f 1) bytes"

mxw_start_pg "$work/pg"
echo
echo "== PostgreSQL"
"$BENCH" fill "postgresql:$MXW_PG_URL" "$ENTRIES"
mxw_psql "ANALYZE" >/dev/null
"$BENCH" measure "postgresql:$MXW_PG_URL" "$RUNS"
echo "database size: $(mxw_psql "SELECT pg_database_size('mxwarden')") bytes"
mxw_finish
