#!/bin/bash
# `mxwarden web-user` through the real binary with a temporary config: add, list, passwd and del; the users file's
# mode (0640), its group (the directory's for a new file, then kept), no password in it in clear; passwords from
# standard input and from a terminal (a pty: no echo, asked twice); every refusal with its exit status, and the
# file unchanged by each.
#
# No daemons, no ports: runs beside anything.
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
mxw_begin web_user_test
state=$work/state
users=$state/web-users
conf=$work/mxwarden.conf
mkdir -p "$state"
chgrp mail "$state"
printf '[daemon]\nstate-dir = %s\n' "$state" >"$conf"
grep_all() { grep "$@" >/dev/null; }

# wu [args...] <input: the exit status in rc, stdout and stderr together in out.
wu() {
    rc=0
    out=$("$MXW_BUILD/mxwarden" -c "$conf" web-user "$@" 2>&1) || rc=$?
}
expect() { # expect RC PATTERN WHAT
    [[ $rc == "$1" ]] || fail "$3: exit $rc, want $1 (output: $out)"
    [[ -z $2 ]] || grep_all -E -- "$2" <<<"$out" || fail "$3: output '$out' does not match '$2'"
}

# No file yet: list and passwd say how to begin.
wu list </dev/null
expect 66 'web-user add NAME --role admin' "list without a users file"
wu passwd alice <<<"pw"
expect 67 'web-user add NAME --role admin' "passwd without a users file"
[[ ! -e $users ]] || fail "a refused passwd created the file"

# The first user: the password from standard input, one line.
wu add alice --role admin <<<"alice-Secret-1"
expect 0 'web user alice added \(admin\) to '"$users" "add an admin"
[[ $(stat -c %a "$users") == 640 ]] || fail "the users file is mode $(stat -c %a "$users"), want 640"
[[ $(stat -c %G "$users") == mail ]] || fail "a new users file has group $(stat -c %G "$users"), want its directory's (mail)"
grep_all -F 'alice-Secret-1' "$users" && fail "the password is in the file in clear"
grep_all -E '^alice:admin::\$argon2id\$' "$users" || fail "no Argon2id hash for alice: $(cat "$users")"
grep_all -F 'alice-Secret-1' <<<"$out" && fail "the password was printed"

wu add bob.r@corp --role reviewer --domains Example.COM,example.org <<<"bob pass with spaces"
expect 0 'added \(reviewer of example.com, example.org\)' "add a reviewer"
grep_all -E '^bob\.r@corp:reviewer:example\.com,example\.org:\$argon2id\$' "$users" || fail "bob's line: $(cat "$users")"
# A CRLF line from a DOS file: the CR is not part of the password.
printf 'carol-pw\r\n' >"$work/crlf"
wu add carol --role reviewer --domains example.net <"$work/crlf"
expect 0 'web user carol added' "add with a CRLF line"

wu list
expect 0 '' "list"
grep_all -E '^alice +admin$' <<<"$out" || fail "list: no alice line in '$out'"
grep_all -E '^bob\.r@corp +reviewer +example\.com,example\.org$' <<<"$out" || fail "list: no bob line in '$out'"
grep_all -F 'argon2' <<<"$out" && fail "list shows hashes"
wu list --json
expect 0 '"name":"bob.r@corp","role":"reviewer","domains":\["example.com","example.org"\]' "list --json"

# Refusals: each with its status, the file unchanged.
cp -p "$users" "$work/before"
wu add alice --role admin <<<"other"
expect 65 'exists already.*passwd alice' "add of an existing name"
wu add dave --role root <<<"pw"
expect 65 "'root' is not admin or reviewer" "unknown role"
wu add dave <<<"pw"
expect 64 'needs --role' "add without --role"
wu add dave --role reviewer <<<"pw"
expect 64 'a reviewer needs --domains' "reviewer without domains"
wu add dave --role admin --domains example.com <<<"pw"
expect 64 'an admin sees every domain' "admin with domains"
wu add dave --role reviewer --domains 'example.com,exa mple.org' <<<"pw"
expect 65 "'exa mple.org' is not a domain name" "bad domain"
wu add dave --role reviewer --domains example.com,EXAMPLE.com <<<"pw"
expect 65 'listed twice' "a domain twice"
wu add 'dave/x' --role admin <<<"pw"
expect 65 'is not a user name' "bad name"
wu add "$(printf 'n%.0s' {1..65})" --role admin <<<"pw"
expect 65 'is not a user name' "a name of 65 bytes"
wu add dave --role admin <<<""
expect 65 'the password is empty' "empty password"
wu add dave --role admin </dev/null
expect 65 'the password is empty' "no password at all"
head -c 1025 /dev/zero | tr '\0' p >"$work/long-pw"
wu add dave --role admin <"$work/long-pw"
expect 65 'longer than 1024 bytes' "a password of 1025 bytes"
wu passwd nobody <<<"pw"
expect 67 'no web user nobody' "passwd of an unknown user"
wu del nobody
expect 67 'no web user nobody' "del of an unknown user"
wu del 'no body'
expect 67 'is not a user name' "del of an impossible name"
wu frob
expect 64 "unknown verb 'frob'" "unknown verb"
wu
expect 64 'no verb given' "no verb"
wu del
expect 64 'del needs a user name' "del without a name"
wu del alice bob
expect 64 "unexpected 'bob'" "del with two names"
wu list --role admin
expect 64 '--role does not go with list' "an option of another verb"
wu add dave --role admin --bogus <<<"pw"
expect 64 'unknown option --bogus' "unknown option"
cmp -s "$users" "$work/before" || fail "a refused command changed the users file"
[[ -z $(find "$state" -name 'web-users.tmp.*') ]] || fail "temporary files left: $(ls "$state")"

# passwd: a new hash, the group an admin gave the file kept.
chgrp nogroup "$users"
old_hash=$(grep '^alice:' "$users")
wu passwd alice <<<"alice-Secret-2"
expect 0 'web user alice: password changed' "passwd"
new_hash=$(grep '^alice:' "$users")
[[ $new_hash != "$old_hash" && $new_hash == 'alice:admin::$argon2id$'* ]] || fail "passwd did not write a new hash"
[[ $(stat -c %G:%a "$users") == nogroup:640 ]] || fail "after passwd the file is $(stat -c %G:%a "$users"), want nogroup:640"
grep_all -F 'alice-Secret-2' "$users" && fail "the new password is in the file in clear"

# A password of exactly 1024 bytes, without a final newline, is taken.
head -c 1024 "$work/long-pw" >"$work/max-pw"
wu add maxi --role admin <"$work/max-pw"
expect 0 'web user maxi added' "a password of 1024 bytes"

# A terminal: the password is asked twice, without echo.
tty_run() { # tty_run FIRST SECOND ARGS...: runs web-user on a pty, answers both prompts; rc and out as wu sets them
    rc=0
    out=$("$MXW_PYTHON" - "$@" <<'EOF'
import os, pty, sys, time
first, second, args = sys.argv[1], sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(args[0], args)
seen = b""
def wait_for(text):
    global seen
    deadline = time.time() + 20
    while text not in seen and time.time() < deadline:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
answers = [first, second]
wait_for(b"password for ")
# The prompt is written after echo went off; a short pause lets the terminal settle.
time.sleep(0.2)
os.write(fd, first.encode() + b"\n")
if first:
    wait_for(b"again: ")
    time.sleep(0.2)
    os.write(fd, second.encode() + b"\n")
wait_for(b"\x00never")
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
EOF
    ) || rc=$?
}
before_tty=$(grep '^bob.r@corp:' "$users")
tty_run "bob-tty-pass" "bob-tty-pass" "$MXW_BUILD/mxwarden" -c "$conf" web-user passwd bob.r@corp
expect 0 'web user bob.r@corp: password changed' "passwd on a terminal"
grep_all -F 'password for bob.r@corp: ' <<<"$out" || fail "no first prompt on the terminal: $out"
grep_all -F 'again: ' <<<"$out" || fail "no second prompt on the terminal: $out"
grep_all -F 'bob-tty-pass' <<<"$out" && fail "the terminal echoed the password: $out"
[[ $(grep '^bob.r@corp:' "$users") != "$before_tty" ]] || fail "passwd on a terminal wrote no new hash"
cp -p "$users" "$work/before"
tty_run "one-thing" "another" "$MXW_BUILD/mxwarden" -c "$conf" web-user passwd bob.r@corp
expect 65 'the two passwords differ' "different passwords on a terminal"
cmp -s "$users" "$work/before" || fail "differing passwords changed the file"

# del, then the user is gone.
wu del bob.r@corp
expect 0 'web user bob.r@corp removed' "del"
wu list
grep_all bob <<<"$out" && fail "bob is still listed after del: $out"
grep_all -E '^carol +reviewer +example\.net$' <<<"$out" || fail "carol lost by del: $out"

# The file's own troubles: a line that does not parse, a path that is a directory, a directory that is missing.
printf '# hand-edited\nalice:admin::$argon2id$v=19$x\nzed:boss::$argon2id$v=19$x\n' >"$work/broken"
wu list --web.users="$work/broken"
expect 65 "$work/broken:3: user zed: role 'boss'" "a users file that does not parse"
wu list --web.users="$state"
expect 74 'cannot read' "a users file that is a directory"
wu add erin --role admin --web.users="$work/no-such-dir/users" <<<"pw"
expect 73 'no-such-dir' "a users file in a missing directory"
# The key is web.users: -c's file, or an override before the verb.
"$MXW_BUILD/mxwarden" -c "$conf" --web.users="$work/other" web-user add frank --role admin <<<"pw" >/dev/null ||
    fail "add with --web.users before the verb failed"
grep_all '^frank:admin::' "$work/other" || fail "--web.users before the verb was not used"
wu list --web.users=relative/x
expect 66 "^mxwarden web-user list: /.*/relative/x: no users file yet" "a relative web.users"
wu list --web.session-idle=1d
expect 78 'web.session-idle' "a bad config"

mxw_finish
