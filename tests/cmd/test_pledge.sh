#!/usr/bin/env bash
# --pledge-at-once and --pledge-total on the whole cluster (cluster.sh): with --pledge-total 3
# --pledge-at-once 2 the miner pledges by itself, never more than 2 sealing at once, stops at 3
# sectors in all and says so once; --pledge (the old name of --pledge-at-once) warns what it
# means, and is refused beside --pledge-at-once.
set -u
source "$(dirname "$0")/cluster.sh" "$@"

cluster_up --proving-period 48 --challenge-window 8 --deadlines 6 --challenge-lookback 2 --fault-cutoff 3 --precommit-challenge-delay 5
out=$(M run --dist-path "$tmp/dist" --pledge 1 --pledge-at-once 1 2>&1) && fail "--pledge beside --pledge-at-once was accepted"
[[ $out == *"give --pledge-at-once N, not --pledge too"* ]] || fail "--pledge with --pledge-at-once: $out"

start_miner --confidence 1 --pledge-total 3 --pledge-at-once 2
all() { M sectors list --json | jq length; }
sealing() { M sectors list --json | jq '[.[] | select(.State != "Proving")] | length'; }
most=0
three() {
  local s; s=$(sealing); ((s > most)) && most=$s
  (($(all) == 3 && $(proving_count) == 3))
}
until_ok 120 "three sectors Proving" three
((most <= 2)) || fail "$most sectors sealing at once, with --pledge-at-once 2"
sleep 3
(($(all) == 3)) || fail "$(all) sectors after --pledge-total 3"
n=$(grep -c -- "--pledge-total 3 reached: the miner has 3 sector(s); no more pledges" "$tmp/poster.log")
((n == 1)) || fail "the 'reached' line was logged $n time(s)"
kill -TERM "$mpid"; wait "$mpid"

# the old name: what it means, in one line
start_miner --confidence 1 --pledge 1
grep -q -- "--pledge 1 is --pledge-at-once 1: that many sealing at once, with no end" "$tmp/miner.log" "$tmp/poster.log" ||
  fail "no line saying what --pledge means"
finish
