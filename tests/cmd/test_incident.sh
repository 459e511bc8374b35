#!/usr/bin/env bash
# The seed's incident, end to end on the whole cluster (cluster.sh): the sectors live on a storage
# node, <dist>/nfs/127.0.0.1/, that the registry knows; the poster is started as the seed's was,
# `run --mode poster --dist-path DIR --nosync` without --server-api. Checked:
# 1. it cannot read a sector: Proven stays 0, every sector turns faulty, and poster.log holds the
#    seed's could-not-read ERROR lines for <dist>/cache/...;
# 2. doctor fails the seed's three checks and names the missing --server-api, with the evidence
#    (where the poster looks, where the sector is, the registry on this host) and the restart
#    command, even with a second registry running on this host;
# 3. the restart command doctor printed is run as printed: the poster declares the recoveries,
#    the faults clear and the power returns, and doctor then passes those checks.
# The miner alone cannot win blocks while it reads no sector: the liveness rule keeps the chain
# (and its cron, which records the faults) going with bootstrap blocks after 2 null rounds.
set -u
source "$(dirname "$0")/cluster.sh" "$@"

cluster_up --proving-period 48 --challenge-window 8 --deadlines 6 --challenge-lookback 2 --fault-cutoff 3 --precommit-challenge-delay 5 \
  --bootstrap-after-nulls 2
start_miner --confidence 1
for _ in 1 2 3; do M sectors pledge >/dev/null || die "sectors pledge"; done
proving3() { (($(proving_count) == 3)); }
until_ok 90 "three sectors Proving" proving3
power() { node StateMinerPower '["t01000", []]' | jq -r .MinerPower.RawBytePower; }
until_ok 30 "power for three sectors" test "$(power)" == 6144
[[ -d $tmp/dist/nfs/127.0.0.1/cache/s-t01000-1 && ! -e $tmp/dist/cache ]] || die "the sectors are not on the storage node's folder"

# ---- the poster as the seed started it: no --server-api ----
kill -TERM "$mpid"
wait "$mpid"
rm -f "$tmp/miner/api"
"$MINER" run --mode=poster --dist-path="$tmp/dist" --nosync --repo "$tmp/miner" --node-repo "$tmp/node" --api 0 --confidence 1 \
  --log-file "$tmp/poster.log" 2>>"$tmp/miner.log" &
mpid=$!
pids+=("$mpid")
wait_file "$tmp/miner/api" "$mpid" || die "the poster did not start"
all_faulty() { [[ $(node StateMinerSectorCount '["t01000", []]' | jq .Faulty) == 3 ]]; }
# proven is sampled from the first fault on: the deadline open at the switch may hold a post of
# the miner before it
max_proven=0
for _ in $(seq 150); do
  if (($(node StateMinerSectorCount '["t01000", []]' | jq .Faulty) > 0)); then
    p=$(M proving deadlines --json | jq '[.[].proven] | max')
    ((p > max_proven)) && max_proven=$p
  fi
  all_faulty && break
  sleep 1
done
all_faulty || die "the sectors did not all turn faulty: $(node StateMinerSectorCount '["t01000", []]')"
((max_proven == 0)) || fail "a deadline was proven ($max_proven partitions) by a poster that reads no sector"
until_ok 20 "power gone" test "$(power)" == 0
# the seed's line for a deadline under way, or Lotus's fault check's for one ahead, which the
# poster then declares faulty
grep -qE $'\t(ERROR\tstorageminer\twhen running wdpost for partition 0, got err |WARN\tstorageminer\tCheckProvable Sector FAULT: generating vanilla proof\t.*)could not read from path=(\\\\)?"'"$tmp/dist/cache/s-t01000-"'[123]/p_aux' "$tmp/poster.log" ||
  fail "no could-not-read line for <dist>/cache in poster.log: $(grep -E 'ERROR|FAULT' "$tmp/poster.log" | head -3)"
[[ $(M info) == *"Proving: 0 B (6 KiB Faulty, 100.00%)"* ]] || fail "info: $(M info)"
grep -q "the producer makes height" "$tmp/daemon.log" || fail "the liveness rule never made a block"

# ---- doctor names the cause and the fix ----
# a second, empty registry on this host: doctor must still name the one that holds the sectors
"$SRV" run --listen 127.0.0.1:0 --repo "$tmp/srv2" 2>>"$tmp/server2.log" &
pids+=("$!")
wait_file "$tmp/srv2/api" "$!" || die "the second registry did not start"
out=$(M doctor)
rc=$?
echo "$out"
((rc == 2)) || fail "doctor exited $rc, want 2 (problems found)"
for want in "[FAIL] power: Committed 6 KiB but Proving only 0 B (6 KiB Faulty, 100.00%)" "[FAIL] proven: " "[FAIL] poster log: " \
  "[FAIL] server-api: the poster (pid $mpid) runs without --server-api" \
  "a registry is there: spacetime-server runs on this host (pid $spid, repo $tmp/srv)" \
  "it looks for $tmp/dist/cache/s-t01000-" "which does not exist; the sector is at $tmp/dist/nfs/127.0.0.1/cache/s-t01000-" \
  "[FAIL] sector paths: the poster cannot read 3 of 3 sector(s)" "kill $mpid" "--log-file $tmp/poster.log --server-api=$api"; do
  [[ $out == *"$want"* ]] || fail "doctor does not say: $want"
done
json=$(M doctor --json)
[[ $(jq -r '.findings[] | select(.check == "server-api") | .status' <<<"$json") == fail ]] || fail "doctor --json: $json"
(($(jq .problems <<<"$json") >= 5)) || fail "doctor --json counts $(jq .problems <<<"$json") problems"

# ---- the fix, run exactly as doctor printed it (the registry's token in the environment, as
# the operator keeps it) ----
export SPACETIME_SERVER_TOKEN
SPACETIME_SERVER_TOKEN=$(cat "$tmp/srv/token")
mapfile -t fixes < <(jq -r '.findings[] | select(.check == "server-api") | .fix[]' <<<"$json")
[[ ${fixes[1]} == "kill $mpid" ]] || die "the fix's first step: ${fixes[1]}"
eval "${fixes[1]}"
wait "$mpid"
rm -f "$tmp/miner/api"
eval "${fixes[2]} 2>>\"$tmp/miner.log\" &"
mpid=$!
pids+=("$mpid")
wait_file "$tmp/miner/api" "$mpid" || die "the poster restarted by doctor's command did not start: ${fixes[2]}"
recovered() { [[ $(node StateMinerFaults '["t01000", []]') == '[0]' && $(power) == 6144 ]]; }
until_ok 150 "the sectors recovered with their power" recovered
grep -q $'\tINFO\tstorageminer\tdeclare faults recovered Message CID\t' "$tmp/poster.log" || fail "no recovery declared in the log"
[[ $(M info) == *"Proving: 6 KiB (0 B Faulty, 0.00%)"* ]] || fail "info after the fix: $(M info)"
after=$(M doctor --json)
for check in power "poster log" server-api registry "sector paths"; do
  [[ $(jq -r --arg c "$check" '.findings[] | select(.check == $c) | .status' <<<"$after") == ok ]] ||
    fail "doctor after the fix, $check: $(jq -c --arg c "$check" '.findings[] | select(.check == $c)' <<<"$after")"
done
finish
