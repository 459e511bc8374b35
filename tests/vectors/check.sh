#!/usr/bin/env bash
# The vectors in tests/vectors are a byte-for-byte copy of the published ones in ../shared/vectors.
# This test fails if a value here was edited: against SHA256SUMS always, and against
# ../shared/vectors too when the checkout sits beside it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
sha256sum --quiet -c SHA256SUMS
shared="$here/../../../shared/vectors"
if [[ -d $shared ]]; then
  diff -r -x SHA256SUMS -x check.sh -x README.md "$shared" "$here"
  echo "tests/vectors matches $shared"
fi
echo "vectors unchanged"
