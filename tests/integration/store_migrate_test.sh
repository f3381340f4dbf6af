#!/bin/bash
# `mxwarden store migrate --from sqlite:PATH` against a real PostgreSQL 15 (lib/pg.sh). A SQLite quarantine made
# with the real CLI (held, released, returned, deleted, 8-bit bytes) is copied into PostgreSQL, and both stores must
# show the same entries (list --json, show --json, cat) but for ids and node. Then: a run again copies nothing; a
# run killed half way is finished by the next, and entries the old store took since are the only ones copied then;
# a redelivery of a copied message is a duplicate on PostgreSQL too. Errors: bad arguments (64), no store.url (78),
# no such file (66), another store's entries under the same node (65), PostgreSQL down (75, nothing copied).
#
# One private server on a free port, no daemons: runs beside anything.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/pg.sh
source "$here/lib/pg.sh"

mxw_begin store_migrate_test
grep_all() { grep "$@" >/dev/null; }
mxw=$MXW_BUILD/mxwarden
old=$work/old
db=$old/quarantine.db

# The old machine's CLI, and the fleet's (store.url set once PostgreSQL runs).
sq() { "$mxw" --daemon.state-dir="$old" "$@"; }
pgq() { "$mxw" --daemon.state-dir="$work/new" --store.url="$MXW_PG_URL" --store.node=mta-old "$@"; }
# run CMD...: sets rc and out (stdout and stderr).
run() {
    rc=0
    out=$("$@" 2>&1) || rc=$?
}
expect() { # expect RC PATTERN WHAT
    [[ $rc == "$1" ]] || fail "$3: exit $rc, want $1 (output: $out)"
    [[ -z $2 ]] || grep_all -E -- "$2" <<<"$out" || fail "$3: output '$out' does not match '$2'"
}
ingest() { # ingest STATE_DIR QUEUE_ID RCPT... < message
    local dir=$1 qid=$2
    shift 2
    "$mxw" --daemon.state-dir="$dir" quarantine ingest --reason dns-failure --reason-text "no MX" --queue-id "$qid" \
        -f sender@example.org -- "$@"
}

# ---- the old store -------------------------------------------------------------------------------------------
mkdir -p "$old"
msg() { printf 'From: <sender@example.org>\nSubject: %s\nMessage-ID: <%s@example.org>\n\nbody of %s\n' "$1" "$1" "$1"; }
msg plain | ingest "$old" Q1 a@dest.example >/dev/null
# 8-bit: Latin-1 in the subject and body, a NUL and 0xff in the body.
printf 'Subject: caf\xe9\n\nna\xefve \x00 \xff end\n' | ingest "$old" Q2 b@dest.example c@Other.Example >/dev/null
printf 'Subject: caf\xe9\n\nna\xefve \x00 \xff end\n' >"$work/eightbit"
msg released | ingest "$old" Q3 d@dest.example >/dev/null
msg deleted | ingest "$old" Q4 e@dest.example >/dev/null
msg returned | ingest "$old" Q5 f@dest.example g@dest.example >/dev/null
cat >"$work/sendmail" <<EOS
#!/bin/bash
cat >"$work/released.\$\$"
EOS
chmod 0755 "$work/sendmail"
sq --quarantine.release-via="sendmail:$work/sendmail" quarantine release 3 5 >/dev/null
sq quarantine delete 4 >/dev/null
# Entry 5 comes back for one recipient: returned, attempt 2, a second fingerprint.
returned=$(grep -l 'Subject: returned' "$work"/released.*)
ingest "$old" Q5BACK g@dest.example <"$returned" | grep_all 'returned to entry 5' || fail "entry 5 did not come back"
total=5

# ---- errors before anything is copied --------------------------------------------------------------------
run sq store migrate --from sqlite:"$db"
expect 78 'store migrate copies into the store.url database; set store.url' "no store.url"
run sq store migrate
expect 64 'sqlite:PATH' "no --from"
run sq store migrate --from "$db"
expect 64 'sqlite:PATH' "--from without sqlite:"
run sq store migrate --from sqlite:"$db" --bogus
expect 64 'unknown option' "unknown option"
run sq store frobnicate
expect 64 "unknown verb 'frobnicate'" "unknown verb"
run sq store --help
expect 0 'X-Mxwarden-Quarantine-Id' "store --help"
"$mxw" --help | grep_all 'store migrate --from sqlite:PATH' || fail "mxwarden --help does not list store migrate"

mxw_start_pg "$work/pg"
run pgq store migrate --from sqlite:"$work/nothing.db"
expect 66 'no quarantine file' "missing file"
printf 'not a database at all, just text long enough to look like a header......................\n' >"$work/junk.db"
run pgq store migrate --from sqlite:"$work/junk.db"
expect 65 'as a quarantine' "not a quarantine"

# PostgreSQL down: 75, and nothing half there once it is back.
mxw_stop_pg
run pgq store migrate --from sqlite:"$db"
expect 75 'run again' "PostgreSQL down"
mxw_restart_pg
[[ $(mxw_psql "SELECT to_regclass('mxwarden.quarantine_entries') IS NULL
               OR NOT EXISTS (SELECT 1 FROM mxwarden.quarantine_entries)") == t ]] ||
    fail "a migration refused for PostgreSQL being down left entries"

# ---- the copy --------------------------------------------------------------------------------------------
run pgq store migrate --from sqlite:"$db" --dry-run
expect 0 "^would copy $total, already there 0, total $total\$" "dry run"
[[ $(mxw_psql "SELECT count(*) FROM mxwarden.quarantine_entries") == 0 ]] || fail "the dry run copied"
run pgq store migrate --from sqlite:"$db"
expect 0 "^copied $total, already there 0, total $total\$" "migration"
grep_all -E '^entry 1: copied as [0-9]+$' <<<"$out" || fail "no old -> new line for entry 1: $out"
grep_all 'new ids' <<<"$out" || fail "the output does not say the ids changed"
declare -A new_id
while read -r _ old_id _ _ nid; do new_id[${old_id%:}]=$nid; done < <(grep -E '^entry [0-9]+: copied as' <<<"$out")

# Field by field, but for id and node; the copy's history has one line more ("migrated").
sq quarantine list --state all --json >"$work/list.sqlite"
pgq quarantine list --state all --json >"$work/list.pg"
for id in 1 2 3 4 5; do
    sq quarantine show "$id" --json >"$work/show.sqlite.$id"
    pgq quarantine show "${new_id[$id]}" --json >"$work/show.pg.$id"
done
"$MXW_PYTHON" - "$work" <<'EOF_PY' || fail "the stores differ (see above)"
import json, sys
w = sys.argv[1]
def strip(e):
    return {k: v for k, v in e.items() if k not in ("id", "node")}
a = [strip(e) for e in json.load(open(w + "/list.sqlite"))]
b = [strip(e) for e in json.load(open(w + "/list.pg"))]
ok = a == b
if not ok:
    print("list differs:\n", a, "\n", b)
for i in range(1, 6):
    s = json.load(open(f"{w}/show.sqlite.{i}"))
    p = json.load(open(f"{w}/show.pg.{i}"))
    mig = p["history"].pop()
    if mig["event"] != "migrated" or mig["detail"] != f"from sqlite:mta-old:{i}":
        print("entry", i, "has no migrated line:", mig); ok = False
    if strip(s) != strip(p):
        print("entry", i, "differs:\n", strip(s), "\n", strip(p)); ok = False
sys.exit(0 if ok else 1)
EOF_PY
for id in 1 2 3 5; do
    cmp -s <(sq quarantine cat "$id") <(pgq quarantine cat "${new_id[$id]}") || fail "cat $id differs from its copy"
done
pgq quarantine cat "${new_id[2]}" | cmp -s - "$work/eightbit" || fail "the 8-bit message did not come over byte for byte"
run pgq quarantine cat "${new_id[4]}"
expect 66 'deleted' "the deleted entry's copy has no message"
pgq quarantine show "${new_id[5]}" --json | grep_all '"attempts":2' || fail "the returned entry lost its attempts"

# A redelivery of a copied message (the MTA never saw the old store's exit) is a duplicate here too, for the
# first delivery and for the return.
msg plain | pgq quarantine ingest --reason dns-failure --reason-text "no MX" --queue-id Q1 -f sender@example.org \
    -- a@dest.example | grep_all "already quarantined as entry ${new_id[1]}\$" || fail "a redelivery was stored again"
pgq quarantine ingest --reason dns-failure --reason-text "no MX" --queue-id Q5BACK -f sender@example.org \
    -- g@dest.example <"$returned" | grep_all "already quarantined as entry ${new_id[5]}\$" ||
    fail "a redelivery of the return was stored again"

# ---- a run again -----------------------------------------------------------------------------------------
run pgq store migrate --from sqlite:"$db"
expect 0 "^copied 0, already there $total, total $total\$" "second run"
grep_all "^entry 1: already there as ${new_id[1]}\$" <<<"$out" || fail "the second run does not map entry 1: $out"
[[ $(mxw_psql "SELECT count(*) FROM mxwarden.quarantine_entries") == "$total" ]] || fail "the second run copied"

# The old store took more mail since: only that is copied.
msg later1 | ingest "$old" Q6 h@dest.example >/dev/null
msg later2 | ingest "$old" Q7 i@dest.example >/dev/null
run pgq store migrate --from sqlite:"$db"
expect 0 "^copied 2, already there $total, total $((total + 2))\$" "new entries since"
grep_all -E '^entry 7: copied as [0-9]+$' <<<"$out" || fail "entry 7 not copied: $out"

# Another machine's file under the same store.node: its ids are taken by different entries, nothing is copied.
other=$work/other
mkdir -p "$other"
msg stranger | "$mxw" --daemon.state-dir="$other" quarantine ingest --queue-id X1 -f stranger@example.org \
    -- z@dest.example >/dev/null
run pgq store migrate --from sqlite:"$other/quarantine.db"
expect 65 'NOT copied: sqlite:mta-old:1 is entry' "another store under the same node"
run pgq --store.node=mta-other store migrate --from sqlite:"$other/quarantine.db"
expect 0 '^copied 1, already there 0, total 1$' "the other store under its own node"

# ---- killed half way -------------------------------------------------------------------------------------
big=$work/big
mkdir -p "$big"
n=150
for i in $(seq 1 "$n"); do msg "big$i" | ingest "$big" "B$i" "r$i@dest.example" >/dev/null; done
bigq() { pgq --store.node=mta-big "$@"; }
mkfifo "$work/progress"
bigq store migrate --from sqlite:"$big/quarantine.db" >"$work/progress" 2>&1 &
pid=$!
seen=0
while read -r line; do
    [[ $line == *"copied as"* ]] || continue
    seen=$((seen + 1))
    if ((seen == 5)); then
        kill -KILL "$pid"
        break
    fi
done <"$work/progress"
wait "$pid" 2>/dev/null || true
done_before=$(mxw_psql "SELECT count(*) FROM mxwarden.quarantine_entries WHERE origin LIKE 'sqlite:mta-big:%'")
((done_before >= 5 && done_before < n)) || fail "the kill came at $done_before of $n entries; want some, not all"
# Whatever was committed is whole: every copy has its message, recipient and history.
[[ $(mxw_psql "SELECT count(*) FROM mxwarden.quarantine_entries e WHERE origin LIKE 'sqlite:mta-big:%'
               AND (NOT EXISTS (SELECT 1 FROM mxwarden.quarantine_messages m WHERE m.entry_id = e.id)
                    OR NOT EXISTS (SELECT 1 FROM mxwarden.quarantine_recipients r WHERE r.entry_id = e.id)
                    OR NOT EXISTS (SELECT 1 FROM mxwarden.quarantine_history h WHERE h.entry_id = e.id))") == 0 ]] ||
    fail "the killed run left a partial entry"
run bigq store migrate --from sqlite:"$big/quarantine.db"
expect 0 "^copied $((n - done_before)), already there $done_before, total $n\$" "resume"
[[ $(mxw_psql "SELECT count(*) FROM mxwarden.quarantine_entries WHERE origin LIKE 'sqlite:mta-big:%'") == "$n" ]] ||
    fail "the resumed migration did not end with every entry once"

mxw_finish
