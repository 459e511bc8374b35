#!/usr/bin/env bash
# Faults and crashes on the whole cluster (cluster.sh), with a 48-epoch proving period of six
# deadlines. Checked:
# - one sector's cache folder removed: `proving check` names the missing file, the poster
#   declares it faulty before its deadline (or, if its deadline came first, logs the seed's
#   could-not-read ERROR and skips it), the rest of its partition is still proven (only that
#   sector turns faulty), and power drops by one sector;
# - the folder restored: the poster declares the recovery and the power returns;
# - the sealer's heartbeats keep the storage node it mounts allocatable;
# - kill -9 of the miner while sectors are mid-seal (in each sealing state it is caught in),
#   then a restart: every sector reaches Proving, none is lost, and each is pre-committed and
#   prove-committed exactly once on chain.
set -u
source "$(dirname "$0")/cluster.sh" "$@"

# Eight-epoch deadlines and four sectors: a miner alone on its chain makes no block in a round
# whose WinningPoSt challenges the sector that is gone (one in four here), and its posts need a
# few blocks between Challenge and Close.
cluster_up --proving-period 48 --challenge-window 8 --deadlines 6 --challenge-lookback 2 --fault-cutoff 3 --precommit-challenge-delay 5
start_miner --confidence 1
for _ in 1 2 3 4; do M sectors pledge >/dev/null || die "sectors pledge"; done
proving4() { (($(proving_count) == 4)); }
until_ok 90 "four sectors Proving" proving4
power() { node StateMinerPower '["t01000", []]' | jq -r .MinerPower.RawBytePower; }
until_ok 30 "power for four sectors" test "$(power)" == 8192
# the deadline and partition of sector 1, with sector 2 beside it
d=$(for i in $(seq 0 5); do M proving deadline "$i" --json; done | jq -s '[.[] | select(.partitions[0].sectors == "1,2")][0].deadline')
[[ $d =~ ^[0-5]$ ]] || die "no deadline holds sectors 1 and 2 in one partition"

# ---- one sector's cache folder goes away ----
cache1=$tmp/dist/nfs/127.0.0.1/cache/s-t01000-1
gone_at=$(node ChainHead '[]' | jq .Height) gone_line=$(wc -l <"$tmp/poster.log")
mv "$cache1" "$tmp/cache1.away"
ck=$(M proving check "$d") && fail "proving check with the folder gone exited 0"
rc=$(M proving check "$d" --json >/dev/null; echo $?)
[[ $rc == 1 ]] || fail "proving check --json with a bad sector exited $rc, want 1"
[[ $ck == *$'bad    could not read from path="'"$cache1"'/p_aux": No such file or directory (os error 2)'* && $ck == *"2 sector(s), 1 bad"* ]] ||
  fail "proving check with the folder gone: $ck"
# the first faults the chain records: sector 1 alone, so its partition was still proven with
# sector 2 (StateMinerFaults is a bitfield in Lotus's JSON, run lengths: [1,1] is {1})
some_faults() { [[ $(node StateMinerFaults '["t01000", []]') != '[0]' ]]; }
until_ok 80 "a fault" some_faults
lost=$(tail -n +"$((gone_line + 1))" "$tmp/poster.log" | grep -c $'\tmining block failed at round')
echo "the fault was on chain $(($(node ChainHead '[]' | jq .Height) - gone_at)) epochs after the folder went; $lost block round(s) failed WinningPoSt meanwhile"
faults=$(node StateMinerFaults '["t01000", []]')
[[ $faults == '[1,1]' ]] || fail "the first faults are $faults, want [1,1] (sector 1 alone)"
# seen before its deadline, the poster declares it faulty (Lotus's checkNextFaults); seen later,
# its proof skips it with the seed's could-not-read line
mport=$(cut -d/ -f5 "$tmp/miner/api")
metric() { curl -s "http://127.0.0.1:$mport/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
if grep -q $'\tWARN\tstorageminer\tdeclare faults Message CID\t{"cid": "bafy[a-z0-9]*", "deadline": '"$d"', "sectors": 1}' "$tmp/poster.log"; then
  echo "sector 1 was declared faulty before its deadline"
  (($(metric spacetime_miner_faults_declared_total) == 1)) || fail "metrics: $(metric spacetime_miner_faults_declared_total) faults declared"
else
  grep -q $'\tERROR\tstorageminer\twhen running wdpost for partition 0, got err could not read from path="'"$cache1"'/p_aux": No such file or directory (os error 2)' "$tmp/poster.log" ||
    fail "neither declared faulty nor a could-not-read line: $(grep $'\tERROR\tstorageminer\twhen running wdpost' "$tmp/poster.log" | head -3)"
  grep -q '"skipped": 1}$' "$tmp/poster.log" || fail "no 'running windowPost' line with skipped 1"
  (($(metric spacetime_miner_wdpost_sectors_skipped_total) >= 1)) || fail "metrics: no sector skipped"
fi
until_ok 10 "power for three sectors" test "$(power)" == 6144
info=$(M info)
[[ $info == *"Byte Power:   6 KiB / 6 KiB"* && $info == *"Committed: 8 KiB"* && $info == *"Proving: 6 KiB (2 KiB Faulty, 25.00%)"* ]] || fail "info with a fault: $info"
[[ $(M proving faults --json | jq -c '[.[].sector]') == '[1]' ]] || fail "proving faults: $(M proving faults)"

# ---- the folder comes back: the recovery is declared and the power returns ----
mv "$tmp/cache1.away" "$cache1"
recovered() { [[ $(node StateMinerFaults '["t01000", []]') == '[0]' && $(power) == 8192 ]]; }
until_ok 130 "sector 1 recovered with its power" recovered
grep -q $'\tINFO\tstorageminer\tdeclare faults recovered Message CID\t' "$tmp/poster.log" || fail "no recovery declared in the log"
[[ $(M info) == *"Proving: 8 KiB (0 B Faulty, 0.00%)"* ]] || fail "info after the recovery: $(M info)"

# ---- kill -9 mid-seal, in each sealing state it is caught in, and restarts ----
# over a minute since cluster_up's one heartbeat: the sealer's own keep the node allocatable
age=$(( $(date +%s) - $(M storage list --json | jq '.[0].LastHeartbeat') ))
((age < 30)) || fail "the storage node's last heartbeat is ${age}s old"
M sectors pledge >/dev/null && M sectors pledge >/dev/null || die "sectors pledge 5 and 6"
killed=" "
for _ in $(seq 600); do
  states=$(M sectors list --json 2>/dev/null | jq -r '[.[] | select(.SectorID > 4) | .State] | join(" ")')
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
proving6() { (($(proving_count) == 6)); }
until_ok 60 "six sectors Proving" proving6
[[ $(M sectors list --json | jq -c '[.[] | select(.State != "Proving" or .Retries != 0 or .LastErr != "")]') == '[]' ]] ||
  fail "sectors after the kills: $(M sectors list)"
[[ $(node StateMinerSectorCount '["t01000", []]' | jq .Live) == 6 ]] || fail "sectors on chain: $(node StateMinerSectorCount '["t01000", []]')"
# every PreCommitSector (6) and ProveCommitSector (7) the chain holds: one each per sector
read -r pre commit _ failed <<<"$(miner_msgs)"
[[ "$pre $commit $failed" == "6 6 0" ]] ||
  fail "the chain holds $pre PreCommitSector and $commit ProveCommitSector messages ($failed failed), want 6 and 6"
grep $'\tERROR\tsectors\t' "$tmp/poster.log" && fail "the sealer logged errors"

kill -TERM "$mpid"
wait "$mpid"
finish
