#!/usr/bin/env bash
# Fails when a layer includes what it must not: proto/ is standard-library
# only; engine/ never sees libunbound, sockets or the daemon; the daemon's
# own folder is included by nobody else; web/ (mxwarden-web's users and
# sessions) stays out of proto/ and engine/.
set -euo pipefail
src=$1
bad=0
if grep -rnE '#include +[<"](boost/|net/|dns/|engine/|daemon/|base/|web/|unbound\.h)' "$src/proto"; then
  echo "proto/ must depend on the standard library only"; bad=1
fi
if grep -rnE '#include +[<"](unbound\.h|sqlite3\.h|libpq-fe\.h|store/|dns/unbound|dns/lookup_queue|daemon/|base/|web/|net/(listener|policy_session|control_session))' "$src/engine"; then
  echo "engine/ must not include libunbound, SQLite, libpq, the daemon or sessions"; bad=1
fi
if grep -rnE '#include +[<"](web/|sodium\.h)' "$src/proto" "$src/engine"; then
  echo "proto/ and engine/ must not include web/ or libsodium: the web view's access layer sits beside them"; bad=1
fi
if grep -rnE '#include +[<"]daemon/' "$src/net" "$src/cli" "$src/../plugin"; then
  echo "only mxwardend's main may include daemon/: shared plumbing lives in base/"; bad=1
fi
[ $bad = 0 ] && echo "layering ok"
exit $bad
