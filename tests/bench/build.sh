#!/usr/bin/env bash
# Builds the policy and socketmap benchmark tools: build.sh OUTPUT_DIR
set -euo pipefail
out=${1:?usage: build.sh OUTPUT_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$out"
"${CC:-cc}" -O2 -Wall -Wextra -o "$out/trivial_responder" "$here/trivial_responder.c"
"${CXX:-c++}" -std=c++20 -O2 -pthread -Wall -Wextra -o "$out/policy_load" "$here/policy_load.cpp"
"${CC:-cc}" -O2 -Wall -Wextra -o "$out/trivial_socketmap" "$here/trivial_socketmap.c"
"${CXX:-c++}" -std=c++20 -O2 -pthread -Wall -Wextra -o "$out/socketmap_load" "$here/socketmap_load.cpp"
