#!/usr/bin/env bash
# The cluster on loopback (cluster.sh): `spacetime daemon` (short network parameters: 1 s epochs,
# a 48-epoch proving period), `spacetime-server` (the registry, SQLite) with one nfs storage
# node, and `spacetime-miner` made by `init` and run in `all` mode with --server-api. Checked:
# sectors go from pledge to Proving, every deadline holding sectors ends proven, blocks are
# mined (and logged), the fees of a sender's message land on the block's miner, `info` power
# equals the proving sectors, and every view (info, proving info|deadlines|deadline|faults|
# check, sectors list|status, storage list, /metrics, --json) shows it. Then kill -9 of the
# miner inside a deadline and a restart: the next deadlines are still proven.
set -u
source "$(dirname "$0")/cluster.sh" "$@"

cluster_up --proving-period 48 --challenge-window 4 --challenge-lookback 2 --fault-cutoff 3 --precommit-challenge-delay 5
[[ $(jq -r .Miner "$tmp/miner/config.json") == t01000 ]] || fail "config.json: $(cat "$tmp/miner/config.json")"
out=$(M init --owner "$O" 2>&1) && fail "a second init succeeded"
[[ $out == *"already holds a miner"* ]] || fail "second init: $out"

# the miner's own views need it running, and say so
out=$(M sectors list 2>&1) && fail "sectors list without a running miner succeeded"
[[ $out == "ERROR: the miner is not running: its repo $tmp/miner has no api file (start it with 'spacetime-miner run --repo $tmp/miner --dist-path DIR ...')" ]] ||
  fail "sectors list, not running: $out"
[[ $(M info) == "Mode: not running"* ]] || fail "info without a running miner: $(M info | head -1)"
# without a repo: where it looked, and both ways out (a devnet's repo, or init)
out=$("$MINER" sectors list --repo "$tmp/nope" 2>&1) && fail "sectors list without a repo succeeded"
[[ $out == "ERROR: no miner repo at $tmp/nope (no config.json there): on a devnet, 'source DEVNET_DIR/env' (DEVNET_DIR is 'spacetime devnet --dir', default ./devnet) or pass --repo DEVNET_DIR/miner-1 --node-repo DEVNET_DIR/node; else make one with 'spacetime-miner init --owner ADDR --repo $tmp/nope'" ]] ||
  fail "sectors list without a repo: $out"

start_miner --confidence 1
out=$("$MINER" run --repo "$tmp/miner" --node-repo "$tmp/node" --dist-path "$tmp/dist" --api 0 2>&1) && fail "a second run on the repo started"
[[ $out == *"another 'spacetime-miner run' is using the repo $tmp/miner"* ]] || fail "second run: $out"
M sectors pledge >/dev/null || die "sectors pledge"
[[ $(M sectors pledge --json | jq .SectorNumber) == 2 ]] || fail "the second pledge is not sector 2"

proving() { (($(proving_count) >= 2)); }
until_ok 120 "two sectors Proving" proving
[[ -s $tmp/dist/nfs/127.0.0.1/sealed/s-t01000-1 ]] || fail "sector 1 is not where the registry placed it"

echo "sectors Proving at height $(node ChainHead '[]' | jq .Height)"
# two whole periods: every deadline holding sectors is proven each time (a missed one would
# turn its sectors faulty), and the table shows the deadlines
sleep 100
[[ $(node StateMinerFaults '["t01000", []]') == '[0]' ]] || fail "faults: $(node StateMinerFaults '["t01000", []]')"
posts=$(grep -c $'\tINFO\tstorageminer\twindow PoSt submitted\t' "$tmp/poster.log")
((posts >= 2)) || fail "$posts window PoSt messages in two periods"
table=$(M proving deadlines)
[[ $(head -1 <<<"$table") == "deadline  sectors  partitions  proven" ]] || fail "proving deadlines header: $(head -1 <<<"$table")"
[[ $(grep -c '(current)' <<<"$table") == 1 ]] || fail "proving deadlines: no single (current): $table"
[[ $(M proving deadlines --json | jq '[.[].sectors] | add') == 2 ]] || fail "proving deadlines --json: not 2 sectors"
st=$(M sectors status 2)
[[ $st == *"SectorID: 2"* && $st == *"Status: Proving"* && $st == *"Storage: $tmp/dist/nfs/127.0.0.1"* && $st == *"OnChain: yes"* && $st == *"Last Error: none"* ]] || fail "sectors status 2: $st"
[[ $(M sectors status 2 --json | jq -r .OnChain.SealedCID[\"/\"]) == bagboea4b5abc* ]] || fail "sectors status --json: no sealed CID"
out=$(M sectors status 77 2>&1) && fail "sectors status 77 succeeded"
[[ $out == "ERROR: miner API SectorsStatus: sector 77 of t01000 is neither in this miner's sealing database nor on chain" ]] || fail "sectors status 77: $out"
[[ $(M sectors list | awk 'NR > 1 {print $1, $2, $3}' | tr '\n' ' ') == "1 Proving 0 2 Proving 0 " ]] || fail "sectors list: $(M sectors list)"
d=$(M proving deadlines --json | jq '[.[] | select(.sectors > 0)][0].deadline')
dl=$(M proving deadline "$d")
[[ $dl == *"Deadline Idx: $d"* && $dl == *"Partitions: 1"* && $dl == *"Sectors: 1,2"* && $dl == *"Faults: none"* ]] || fail "proving deadline $d: $dl"
[[ $(M proving deadline "$d" --json | jq -r '.partitions[0].sectors') == "1,2" ]] || fail "proving deadline --json"
out=$(M proving deadline 99 2>&1) && fail "proving deadline 99 succeeded"
[[ $out == "ERROR: deadline 99 does not exist: this network has deadlines 0 to 11" ]] || fail "proving deadline 99: $out"
[[ $(M proving faults | wc -l) == 2 ]] || fail "proving faults: $(M proving faults)"
[[ $(M proving faults --json) == "[]" ]] || fail "proving faults --json: $(M proving faults --json)"
pi=$(M proving info)
[[ $pi == *"Miner: t01000"* && $pi == *"Faults:      0 (0.00%)"* && $pi == *"Deadline Index:"*" of 12"* && $pi == *"Deadline Challenge:"* ]] || fail "proving info: $pi"
[[ $(M proving info --json | jq '.Live') == 2 ]] || fail "proving info --json: $(M proving info --json)"
ck=$(M proving check "$d") || fail "proving check $d: exit $? with every sector good"
[[ $ck == *"2 sector(s), 0 bad"* && $ck == *"$tmp/dist/nfs/127.0.0.1/cache/s-t01000-1"* ]] || fail "proving check $d: $ck"
[[ $(M proving check "$d" --slow --json | jq '[.[] | select(.Good)] | length') == 2 ]] || fail "proving check --slow: $(M proving check "$d" --slow)"
sl=$(M storage list)
[[ $sl == *"1: 127.0.0.1 (nfs)"* && $sl == *"Path: $tmp/dist/nfs/127.0.0.1 (reachable)"* && $sl == *"Sectors: 2 sealed here"* ]] || fail "storage list: $sl"
[[ $(M storage list --json | jq '.[0].Sectors') == 2 ]] || fail "storage list --json"
grep -q $'\tINFO\tstorageminer\tgenerating windowPost\t{"sectors": ' "$tmp/poster.log" || fail "no 'generating windowPost' line"
grep -q $'\tINFO\tstorageminer\tsubmitting window PoSt\t{"elapsed": ' "$tmp/poster.log" || fail "no 'submitting window PoSt' line"
grep -q $'\tINFO\tstorageminer\trunning windowPost\t{"chain-random": "' "$tmp/poster.log" || fail "no 'running windowPost' line"
grep -q $'\tINFO\tminer\tmined new block\t{"cid": "bafy' "$tmp/poster.log" || fail "no 'mined new block' line"
grep -q $'\tERROR\t' "$tmp/poster.log" && fail "errors in the log: $(grep $'\tERROR\t' "$tmp/poster.log" | head -3)"

# /metrics on the miner's API port, without a token
mport=$(cut -d/ -f5 "$tmp/miner/api")
metrics=$(curl -s "http://127.0.0.1:$mport/metrics")
[[ $metrics == *'spacetime_miner_info{miner="t01000",mode="all",server_api="'"$api"'"'* ]] || fail "metrics info line: $(head -3 <<<"$metrics")"
[[ $metrics == *'spacetime_miner_sectors{state="Proving"} 2'* ]] || fail "metrics sectors: $metrics"
mined=$(awk '/^spacetime_miner_blocks_mined_total/ {print $2}' <<<"$metrics")
landed=$(awk '/^spacetime_miner_wdpost_messages_landed_total/ {print $2}' <<<"$metrics")
((mined > 0 && landed >= 2)) || fail "metrics: $mined blocks mined, $landed posts landed"
# the miner's API wants its token for writes
code=$(curl -s -o /dev/null -w '%{http_code}' -XPOST "http://127.0.0.1:$mport/rpc/v0" -d '{"jsonrpc":"2.0","id":1,"method":"Filecoin.PledgeSector","params":[]}')
[[ $code == 401 ]] || fail "PledgeSector without a token: HTTP $code"

# info: power is the proving sectors
info=$(M info)
echo "$info"
[[ $info == "Mode: all"* && $info == *"Miner: t01000"* && $info == *"Sector Size: 2 KiB"* ]] || fail "info header: $info"
[[ $info == *"Byte Power:   4 KiB / 4 KiB (100.0000%)"* ]] || fail "info power: $info"
[[ $info == *"Proving: 4 KiB (0 B Faulty, 0.00%)"* ]] || fail "info proving: $info"
[[ $(M info --json | jq -r .Mode) == all ]] || fail "info --json mode"

# the fees a sender pays land on the block's miner
# fee_lands MSG-CID : the tipset holding the message paid the fees of all its messages, plus
# block-reward x WinCount, to the miner of each block (one miner here: t01000)
fee_lands() {
  local look ts key parents fees=0 rewards=0 reward b block m used cap prem base price before after
  look=$(node StateSearchMsg "[[],{\"/\":\"$1\"},-1,true]")
  [[ $look == null ]] && { fail "message $1 not found"; return; }
  key=$(jq -c .TipSet <<<"$look")
  ts=$(node ChainGetTipSet "[$key]")
  parents=$(jq -c '.Blocks[0].Parents' <<<"$ts")
  # jq turns integers above 2^53 into floats: read this one from the raw text
  reward=$(node_raw StateGetNetworkParams '[]' | grep -o '"block_reward":[0-9]*' | cut -d: -f2)
  for b in $(jq -r '.Cids[]["/"]' <<<"$ts"); do
    block=$(node ChainGetBlock "[{\"/\":\"$b\"}]")
    [[ $(jq -r .Miner <<<"$block") == t01000 ]] || { fail "block $b is not t01000's"; return; }
    rewards=$(bc <<<"$rewards + $reward * $(jq .ElectionProof.WinCount <<<"$block")")
    base=$(jq -r .ParentBaseFee <<<"$block")
    for m in $(node ChainGetBlockMessages "[{\"/\":\"$b\"}]" | jq -r '.SecpkMessages[] | [.CID["/"], .Message.GasFeeCap, .Message.GasPremium] | join(",")'); do
      IFS=, read -r c cap prem <<<"$m"
      used=$(node StateSearchMsg "[[],{\"/\":\"$c\"},-1,true]" | jq .Receipt.GasUsed)
      price=$(bc <<<"if ($base + $prem < $cap) $base + $prem else $cap")
      fees=$(bc <<<"$fees + $used * $price")
    done
  done
  [[ $fees != 0 ]] || fail "no fees in the tipset of $1"
  before=$(node StateGetActor "[\"t01000\", $parents]" | jq -r .Balance)
  after=$(node StateGetActor "[\"t01000\", $key]" | jq -r .Balance)
  [[ $(bc <<<"$after - $before") == $(bc <<<"$fees + $rewards") ]] ||
    fail "t01000 gained $(bc <<<"$after - $before") attoFIL in the tipset of $1, want fees $fees + rewards $rewards"
  echo "the tipset of $1 paid t01000 fees $fees + rewards $rewards attoFIL"
}
mcid=$("$ST" send --repo "$tmp/node" --from "$S" "$O" 1) || fail "send: $mcid"
landed() { [[ $(node StateSearchMsg "[[],{\"/\":\"$mcid\"},-1,true]") != null ]]; }
until_ok 30 "the send landed" landed
fee_lands "$mcid"

# ---- kill -9 inside a deadline, restart: still proven ----
kill -9 "$mpid"; wait "$mpid" 2>/dev/null
out=$(M sectors list 2>&1) && fail "sectors list with the miner killed succeeded"
[[ $out == "ERROR: miner API SectorsList: "*"(is 'spacetime-miner run' running for this repo? after a crash its api file stays behind)" ]] ||
  fail "sectors list with the miner killed: $out"
start_miner --confidence 1
before=$(grep -c $'\tINFO\tstorageminer\twindow PoSt submitted\t' "$tmp/poster.log")
sleep 50 # a whole period
after=$(grep -c $'\tINFO\tstorageminer\twindow PoSt submitted\t' "$tmp/poster.log")
((after > before)) || fail "no window PoSt after the restart"
[[ $(node StateMinerFaults '["t01000", []]') == '[0]' ]] || fail "faults after the restart: $(node StateMinerFaults '["t01000", []]')"

kill -TERM "$mpid"; wait "$mpid"
[[ -e $tmp/miner/api ]] && fail "the api file was left behind"
finish
