#!/usr/bin/env bash
# Every verb group of every program prints its help: `PROG GROUP --help` lists the group's verbs
# on stdout and exits 0; `PROG GROUP` with no verb prints the same on stderr and exits 1. Groups
# are found from the help itself: a word whose `--help` lists "verbs:" (spacetime client,
# spacetime util address, spacetime-server sectors, spacetime-miner proving, ...). A verb of a
# two-word group must be listed by its parent as "GROUP VERB". Nothing else runs: only --help.
set -u
ST=${1:?usage: test_cli_help.sh PATH-TO-spacetime}
BIN=$(dirname "$ST")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0 groups=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# The first word of each verb line ("  name   summary") after "verbs:" or "commands:".
verbs_of() { awk '/^(verbs|commands):$/ {on = 1; next} on && /^  [^ ]/ {print $1} on && /^$/ {on = 0}' <<<"$1"; }

# subgroups HELP PROG WORDS...: checks each group under PROG WORDS, whose help is HELP: a word
# listed with a second word ("  sectors find   ...", names are padded by two spaces or more), or
# one whose --help lists verbs (spacetime's client, chain, ...).
subgroups() {
  local help=$1 prog=$2; shift 2
  local w sub
  for w in $(verbs_of "$help" | sort -u); do
    if grep -q "^  $w [^ ]" <<<"$help"; then
      check_group "$help" "$prog" "$@" "$w"
    else
      sub=$(timeout 10 "$prog" "$@" "$w" --help </dev/null 2>/dev/null)
      [[ $sub == *$'\nverbs:\n'* ]] && check_group "" "$prog" "$@" "$w"
    fi
  done
}

# check_group PARENT_HELP PROG WORDS...: WORDS is a group of PROG, listed in PARENT_HELP as
# "WORD VERB" for each verb ("" for a one-word group of spacetime).
check_group() {
  local parent=$1 prog=$2; shift 2
  local help rc err v name
  name="$(basename "$prog") $*"
  help=$(timeout 10 "$prog" "$@" --help </dev/null 2>"$tmp/stderr"); rc=$?
  if [[ $rc -ne 0 || $help != *$'\nverbs:\n'* ]]; then
    fail "$name --help: exit $rc, want 0 and the group's verbs: $help $(cat "$tmp/stderr")"
    return
  fi
  groups=$((groups + 1))
  err=$(timeout 10 "$prog" "$@" </dev/null 2>&1 >"$tmp/stdout"); rc=$?
  [[ $rc -eq 1 && ! -s $tmp/stdout && $err == "$help" ]] ||
    fail "$name without a verb: exit $rc, want 1 with the help on stderr only; stderr: $err"
  for v in $(verbs_of "$help"); do
    [[ -z $parent || $parent == *$'\n  '"${*: -1} $v "* ]] || fail "$name lists $v, its parent has no '${*: -1} $v'"
  done
  [[ -z $parent ]] || for v in $(grep -o "^  ${*: -1} [^ ]*" <<<"$parent" | awk '{print $2}'); do
    grep -q "^  $v " <<<"$help" || fail "$name --help does not list $v"
  done
  subgroups "$help" "$prog" "$@"
}

check_prog() {
  local help
  help=$("$1" --help) || fail "$(basename "$1") --help: exit $?"
  [[ -n $(verbs_of "$help") ]] || fail "$(basename "$1") --help lists no verbs: $help"
  subgroups "$help" "$1"
}

for p in "$ST" "$BIN/spacetime-server" "$BIN/spacetime-miner"; do check_prog "$p"; done

# the groups this test must have found, at least
for g in "spacetime client" "spacetime chain" "spacetime util address" "spacetime-server sectors" \
  "spacetime-server storage-nodes" "spacetime-miner sectors" "spacetime-miner proving"; do
  read -r prog rest <<<"$g"
  # shellcheck disable=SC2086
  out=$("$BIN/$prog" $rest --help) || fail "$g --help: exit $?"
done
[[ $("$BIN/spacetime-server" sectors --help) == *"  find "*"  declare "* ]] || fail "spacetime-server sectors --help: $("$BIN/spacetime-server" sectors --help)"
[[ $("$BIN/spacetime-miner" proving --help) == *"  info "*"  deadlines "*"  deadline "*"  faults "*"  check "* ]] ||
  fail "spacetime-miner proving --help: $("$BIN/spacetime-miner" proving --help)"
# an unknown verb of a group points to the group's help
out=$("$BIN/spacetime-server" sectors frob 2>&1) && fail "spacetime-server sectors frob succeeded"
[[ $out == "ERROR: unknown verb \"sectors frob\" for 'spacetime-server' (run 'spacetime-server sectors --help')" ]] ||
  fail "spacetime-server sectors frob: $out"

if ((failures)); then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all $groups verb groups print their help"
