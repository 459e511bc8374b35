#!/usr/bin/env bash
# Faults and crashes on the whole cluster (cluster.sh), with a 24-epoch proving period of six
# deadlines. Checked:
# - one sector's cache folder removed: `proving check` names the missing file, the poster logs
#   the seed's could-not-read ERROR and skips it, the rest of its partition is still proven (only
#   that sector turns faulty), and power drops by one sector;
# - the folder restored: the poster declares the recovery and the power returns;
# - the sealer's heartbeats keep the storage node it mounts allocatable;
# - kill -9 of the miner while sectors are mid-seal (in each sealing state it is caught in),
#   then a restart: every sector reaches Proving, none is lost, and each is pre-committed and
#   prove-committed exactly once on chain.
set -u
source "$(dirname "$0")/cluster.sh" "$@"

cluster_up --proving-period 24 --challenge-window 4 --deadlines 6 --challenge-lookback 2 --fault-cutoff 3 --precommit-challenge-delay 5
start_miner --confidence 1
M sectors pledge >/dev/null && M sectors pledge >/dev/null || die "sectors pledge"
proving2() { (($(proving_count) >= 2)); }
until_ok 90 "two sectors Proving" proving2
power() { node StateMinerPower '["t01000", []]' | jq -r .MinerPower.RawBytePower; }
until_ok 30 "power for two sectors" test "$(power)" == 4096

# ---- one sector's cache folder goes away ----
cache1=$tmp/dist/nfs/127.0.0.1/cache/s-t01000-1
mv "$cache1" "$tmp/cache1.away"
d=$(M proving deadlines --json | jq '[.[] | select(.sectors > 0)][0].deadline')
ck=$(M proving check "$d")
[[ $ck == *$'bad    could not read from path="'"$cache1"'/p_aux": No such file or directory (os error 2)'* && $ck == *"2 sector(s), 1 bad"* ]] ||
  fail "proving check with the folder gone: $ck"
# StateMinerFaults is a bitfield in Lotus's JSON (run lengths): [1,1] is {1}
faulty1() { [[ $(node StateMinerFaults '["t01000", []]') == '[1,1]' ]]; }
until_ok 60 "sector 1 faulty, and only sector 1: its partition was still proven with sector 2" faulty1
grep -q $'\tERROR\tstorageminer\twhen running wdpost for partition 0, got err could not read from path="'"$cache1"'/p_aux": No such file or directory (os error 2)' "$tmp/poster.log" ||
  fail "no could-not-read line: $(grep $'\tERROR\t' "$tmp/poster.log" | head -3)"
grep -q '"skipped": 1}$' "$tmp/poster.log" || fail "no 'running windowPost' line with skipped 1"
until_ok 10 "power for one sector" test "$(power)" == 2048
info=$(M info)
[[ $info == *"Byte Power:   2 KiB / 2 KiB"* && $info == *"Committed: 4 KiB"* && $info == *"Proving: 2 KiB (2 KiB Faulty, 50.00%)"* ]] || fail "info with a fault: $info"
[[ $(M proving faults --json | jq -c '[.[].sector]') == '[1]' ]] || fail "proving faults: $(M proving faults)"
mport=$(cut -d/ -f5 "$tmp/miner/api")
skipped=$(curl -s "http://127.0.0.1:$mport/metrics" | awk '/^spacetime_miner_wdpost_sectors_skipped_total/ {print $2}')
((skipped >= 1)) || fail "metrics: $skipped sectors skipped"

# ---- the folder comes back: the recovery is declared and the power returns ----
mv "$tmp/cache1.away" "$cache1"
recovered() { [[ $(node StateMinerFaults '["t01000", []]') == '[0]' && $(power) == 4096 ]]; }
until_ok 70 "sector 1 recovered with its power" recovered
grep -q $'\tINFO\tstorageminer\tdeclare faults recovered Message CID\t' "$tmp/poster.log" || fail "no recovery declared in the log"
[[ $(M info) == *"Proving: 4 KiB (0 B Faulty, 0.00%)"* ]] || fail "info after the recovery: $(M info)"

# ---- kill -9 mid-seal, in each sealing state it is caught in, and restarts ----
# over a minute since cluster_up's one heartbeat: the sealer's own keep the node allocatable
age=$(( $(date +%s) - $(M storage list --json | jq '.[0].LastHeartbeat') ))
((age < 30)) || fail "the storage node's last heartbeat is ${age}s old"
M sectors pledge >/dev/null && M sectors pledge >/dev/null || die "sectors pledge 3 and 4"
killed=" "
for _ in $(seq 600); do
  states=$(M sectors list --json 2>/dev/null | jq -r '[.[] | select(.SectorID > 2) | .State] | join(" ")')
  for s in $states; do
    if [[ $s != Proving && $s != Packing && $killed != *" $s "* ]]; then
      kill -9 "$mpid"
      wait "$mpid" 2>/dev/null
      killed+="$s "
      start_miner --confidence 1
      break
    fi
  done
  [[ $states == "Proving Proving" ]] && break
  sleep 0.2
done
echo "killed the miner with sectors in:$killed"
(($(wc -w <<<"$killed") >= 2)) || fail "caught the sealer in fewer than two states: $killed"
proving4() { (($(proving_count) == 4)); }
until_ok 60 "four sectors Proving" proving4
[[ $(M sectors list --json | jq -c '[.[] | [.SectorID, .State, .Retries, .LastErr]]') == '[[1,"Proving",0,""],[2,"Proving",0,""],[3,"Proving",0,""],[4,"Proving",0,""]]' ]] ||
  fail "sectors after the kills: $(M sectors list)"
[[ $(node StateMinerSectorCount '["t01000", []]' | jq .Live) == 4 ]] || fail "sectors on chain: $(node StateMinerSectorCount '["t01000", []]')"
# every PreCommitSector (6) and ProveCommitSector (7) the chain holds: one each per sector
pre=0 commit=0
head=$(node ChainHead '[]' | jq .Height)
for h in $(seq 1 "$head"); do
  for b in $(node ChainGetTipSetByHeight "[$h, []]" | jq -r 'select(.Height == '"$h"') | .Cids[]["/"]'); do
    counts=$(node ChainGetBlockMessages "[{\"/\":\"$b\"}]" |
      jq -r '[.SecpkMessages[].Message | select(.To == "t01000")] | "\([.[] | select(.Method == 6)] | length) \([.[] | select(.Method == 7)] | length)"')
    pre=$((pre + ${counts% *}))
    commit=$((commit + ${counts#* }))
  done
done
[[ "$pre $commit" == "4 4" ]] || fail "the chain holds $pre PreCommitSector and $commit ProveCommitSector messages, want 4 and 4"
grep $'\tERROR\tsectors\t' "$tmp/poster.log" && fail "the sealer logged errors"

kill -TERM "$mpid"
wait "$mpid"
finish
