#!/bin/bash
# The PostgreSQL quarantine against a real PostgreSQL 15 (Debian's package): starts a throwaway cluster (lib/pg.sh)
# and runs pg_store_tests, the quarantine contract plus the PostgreSQL-only cases, over its unix socket (a
# key=value connection string) and over loopback TCP (a postgresql:// URI). pg_store_tests must fail, not skip, when it is given no server.
#
# One private server on a free port: runs beside anything.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/pg.sh
source "$here/lib/pg.sh"

mxw_begin pg_store_test
tests=$MXW_BUILD/pg_store_tests

if env -u MXW_PG_URL "$tests" >"$work/no-server.log" 2>&1; then
    fail "pg_store_tests passed without MXW_PG_URL"
fi
grep -q "MXW_PG_URL is not set" "$work/no-server.log" || fail "pg_store_tests without MXW_PG_URL did not say why"

mxw_start_pg "$work/pg"

if "$tests" >"$work/socket.log" 2>&1; then
    tail -n 2 "$work/socket.log"
else
    cat "$work/socket.log" >&2
    fail "pg_store_tests over the unix socket"
fi

# TCP, named by a URI: the release and ingest races and the transient errors, where the network is in the way.
if MXW_PG_URL=$MXW_PG_TCP_URL "$tests" "[release],[ingest],[pg]" >"$work/tcp.log" 2>&1; then
    tail -n 2 "$work/tcp.log"
else
    cat "$work/tcp.log" >&2
    fail "pg_store_tests over TCP"
fi

# The helpers the fault tests use: a server killed like a crash recovers with what was committed, and one stopped
# comes back; the data of the last case is there each time.
entries=$(mxw_psql "SELECT count(*) FROM mxwarden.quarantine_entries")
((entries > 0)) || fail "the test cases left no entries to check recovery with"
mxw_kill_pg
if "$MXW_PG_BIN/pg_isready" -q -h "$MXW_PG_DIR" -p "$MXW_PG_PORT"; then
    fail "PostgreSQL still answers after mxw_kill_pg"
fi
mxw_restart_pg
[[ $(mxw_psql "SELECT count(*) FROM mxwarden.quarantine_entries") == "$entries" ]] || fail "entries lost in the crash"
mxw_stop_pg
mxw_restart_pg
[[ $(mxw_psql "SELECT count(*) FROM mxwarden.quarantine_entries") == "$entries" ]] || fail "entries lost in the restart"

mxw_finish
