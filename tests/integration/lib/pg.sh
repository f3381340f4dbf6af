# shellcheck shell=bash
# A throwaway PostgreSQL 15 (Debian's postgresql-15) for the tests: its own cluster in a directory of the work
# directory, run by an unprivileged user (PostgreSQL refuses root). fsync is off (nothing in it outlives the test,
# and only a crash of the whole machine needs it), but every commit still reaches the kernel before it returns
# (synchronous_commit stays on), so a server killed by a fault test keeps what it committed, as a real one does.
# Source this file, then:
#
#   mxw_start_pg DIR        initdb DIR/data, start it on a unix socket in DIR and on 127.0.0.1:PORT, create the
#                           role and database mxwarden (owned by that role, which is no superuser, like a DBA's);
#                           exports MXW_PG_URL (libpq conninfo over the socket) and sets MXW_PG_TCP_URL (a
#                           postgresql:// URI over loopback), MXW_PG_PORT, MXW_PG_LOG. Returns once it accepts
#                           connections.
#   mxw_stop_pg             stop it now (fast shutdown: sessions are disconnected, what committed stays)
#   mxw_kill_pg             SIGKILL the server and every backend, as a crash would; the next start recovers
#   mxw_restart_pg          start it again on the same data, socket and port (after a stop or a kill); stops it
#                           first if it runs
#   mxw_psql SQL            run SQL as the superuser in the database mxwarden; prints unaligned rows
#
# Call the functions directly, never inside $(...), so the state they set survives. The server stops when the script
# exits, whatever happened.

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
MXW_PG_BIN=${MXW_PG_BIN:-/usr/lib/postgresql/15/bin}
MXW_PG_USER=mxwtest-pg
MXW_PG_DIR=

_mxw_pg_as_user() { runuser -u "$MXW_PG_USER" -- "$@"; }

_mxw_pg_ctl() { _mxw_pg_as_user "$MXW_PG_BIN/pg_ctl" -D "$MXW_PG_DIR/data" "$@"; }

_mxw_pg_running() { [[ -n $MXW_PG_DIR ]] && _mxw_pg_ctl status >/dev/null 2>&1; }

# _mxw_psql_in DB SQL...: each SQL on its own (CREATE DATABASE refuses to share a transaction).
_mxw_psql_in() {
    local db=$1 sql args=()
    shift
    for sql in "$@"; do args+=(-c "$sql"); done
    "$MXW_PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$MXW_PG_DIR" -p "$MXW_PG_PORT" -U postgres -d "$db" \
        "${args[@]}"
}

mxw_psql() { _mxw_psql_in mxwarden "${1:?usage: mxw_psql SQL}"; }

mxw_start_pg() {
    local dir=${1:?usage: mxw_start_pg DIR}
    id "$MXW_PG_USER" >/dev/null 2>&1 ||
        useradd --system --no-create-home --shell /usr/sbin/nologin "$MXW_PG_USER" 2>/dev/null ||
        id "$MXW_PG_USER" >/dev/null  # another test created it meanwhile
    mkdir -p "$dir"
    chown "$MXW_PG_USER:" "$dir"
    MXW_PG_DIR=$dir
    MXW_PG_LOG=$dir/postgres.log
    read -r MXW_PG_PORT < <(mxw_free_port)
    # trust: the socket directory and loopback of a test are the only way in, and nothing in the cluster matters.
    _mxw_pg_as_user "$MXW_PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync \
        >"$dir/initdb.log" 2>&1 || {
        echo "mxw-pg: initdb failed:" >&2
        cat "$dir/initdb.log" >&2
        return 1
    }
    cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $MXW_PG_PORT
unix_socket_directories = '$dir'
fsync = off
full_page_writes = off
shared_buffers = 16MB
max_connections = 40
EOF
    mxw_on_exit _mxw_pg_cleanup
    mxw_restart_pg
    _mxw_psql_in postgres "CREATE ROLE mxwarden LOGIN" "CREATE DATABASE mxwarden OWNER mxwarden"
    MXW_PG_URL="host=$dir port=$MXW_PG_PORT dbname=mxwarden user=mxwarden"
    MXW_PG_TCP_URL="postgresql://mxwarden@127.0.0.1:$MXW_PG_PORT/mxwarden"
    export MXW_PG_URL
}

mxw_stop_pg() {
    _mxw_pg_running || return 0
    _mxw_pg_ctl stop -m fast -w -t 30 >>"$MXW_PG_LOG" 2>&1
}

# pg_ctl starts the server in a session of its own, so its process group is the server and its backends.
mxw_kill_pg() {
    local pid
    pid=$(head -n 1 "$MXW_PG_DIR/data/postmaster.pid" 2>/dev/null) || return 0
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    mxw_poll 10 sh -c "! kill -0 $pid 2>/dev/null"
}

mxw_restart_pg() {
    mxw_stop_pg
    _mxw_pg_ctl start -w -t 60 -l "$MXW_PG_LOG" >/dev/null 2>&1 || {
        echo "mxw-pg: PostgreSQL did not start:" >&2
        tail -n 40 "$MXW_PG_LOG" >&2
        return 1
    }
}

_mxw_pg_cleanup() {
    _mxw_pg_running || return 0
    _mxw_pg_ctl stop -m immediate -w -t 30 >/dev/null 2>&1 || mxw_kill_pg
}
