#!/usr/bin/env bash
# The tree is formatted with the checked-in .clang-format: every C file of lib, cmd, tests, fuzz
# and bench, as `clang-format -i` leaves it. Fails naming the files that are not.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "FAIL: clang-format is not installed (scripts/install-deps.sh)"; exit 1; }
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files 'lib/*.[ch]' 'cmd/*.[ch]' 'tests/*.[ch]' 'fuzz/*.[ch]' 'bench/*.[ch]')
else
  mapfile -t files < <(find lib cmd tests fuzz bench -name '*.[ch]' -not -path '*/node_modules/*')
fi
bad=$(clang-format --dry-run "${files[@]}" 2>&1 | grep -oE '^[^:]+\.[ch]:' | sort -u || true)
if [[ -n $bad ]]; then
  echo "FAIL: not formatted with .clang-format (run clang-format -i on them):"
  echo "$bad"
  exit 1
fi
echo "${#files[@]} files formatted"
