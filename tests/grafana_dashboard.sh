#!/usr/bin/env bash
# The Grafana dashboard in packaging/grafana is valid JSON, has its data
# source variable, and every metric its queries name is one mxwardend
# exports (policy/daemon/status.cpp): a renamed metric must not leave an
# empty panel behind.
set -euo pipefail
repo=$1
python3 - "$repo/packaging/grafana/mxwarden-dashboard.json" "$repo/policy/daemon/status.cpp" <<'PY'
import json, re, sys
with open(sys.argv[1]) as f:
    d = json.load(f)
exported = set(re.findall(r'"(mxwarden_[a-z_]+)"', open(sys.argv[2]).read()))
names = [v["name"] for v in d["templating"]["list"]]
assert "datasource" in names, "no datasource variable"
assert d["panels"], "no panels"
bad = []
for p in d["panels"]:
    assert p["datasource"]["uid"] == "${datasource}", p["title"] + ": not on the datasource variable"
    for t in p["targets"]:
        for m in re.findall(r"\bmxwarden_[a-z_]+", t["expr"]):
            if re.sub(r"_(bucket|sum|count)$", "", m) not in exported:
                bad.append(p["title"] + ": " + m)
if bad:
    sys.exit("metrics mxwardend does not export:\n  " + "\n  ".join(bad))
print("dashboard ok: %d panels" % len(d["panels"]))
PY
