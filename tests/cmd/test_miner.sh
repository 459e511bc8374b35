#!/usr/bin/env bash
# The cluster on loopback: `spacetime daemon` (short network parameters: 1 s epochs, a 48-epoch
# proving period), `spacetime-server` (the registry, SQLite) with one nfs storage node, and
# `spacetime-miner` made by `init` and run in `all` mode with --server-api. Checked: sectors
# go from pledge to Proving, every deadline holding sectors ends proven, blocks are mined (and
# logged), the fees of a sender's message land on the block's miner, and `info` power equals
# the proving sectors. Then kill -9 of the miner inside a deadline and a restart: the next
# deadlines are still proven.
set -u
BIN=$(dirname "${1:?usage: test_miner.sh PATH-TO-spacetime}")
ST=$BIN/spacetime SRV=$BIN/spacetime-server MINER=$BIN/spacetime-miner
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
die() { echo "FAIL: $*"; for f in daemon.log server.log miner.log; do echo "--- $f"; tail -30 "$tmp/$f"; done; exit 1; }

wait_file() { # wait_file FILE PID : until FILE is non-empty
  for _ in $(seq 100); do
    [[ -s $1 ]] && return 0
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  return 1
}
start_daemon() {
  rm -f "$tmp/node/api"
  "$ST" daemon --repo "$tmp/node" --api 0 "$@" 2>>"$tmp/daemon.log" &
  dpid=$!
  pids+=("$dpid")
  wait_file "$tmp/node/api" "$dpid" || die "the daemon did not start"
}
node() { # node METHOD PARAMS : the result
  local port token
  port=$(cut -d/ -f5 "$tmp/node/api")
  token=$(cat "$tmp/node/token")
  curl -s -XPOST -H "Authorization: Bearer $token" "http://127.0.0.1:$port/rpc/v1" \
    -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.$1\",\"params\":$2}" | jq -c .result
}
M() { "$MINER" "$@" --repo "$tmp/miner" --node-repo "$tmp/node"; }
start_miner() {
  "$MINER" run --repo "$tmp/miner" --node-repo "$tmp/node" --dist-path "$tmp/dist" --server-api "$api" \
    --server-token "$(cat "$tmp/srv/token")" --log-file "$tmp/poster.log" "$@" 2>>"$tmp/miner.log" &
  mpid=$!
  pids+=("$mpid")
}
until_ok() { # until_ok SECONDS WHAT CMD... : retries CMD each second
  local secs=$1 what=$2
  shift 2
  for _ in $(seq "$secs"); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 1
  done
  die "$what (after ${secs}s)"
}

# ---- the keys, then a genesis with short deadlines that funds them ----
"$ST" genesis new --out "$tmp/g0.json" >/dev/null || die "genesis new"
start_daemon --genesis "$tmp/g0.json"
O=$(node WalletNew '["secp256k1"]' | tr -d '"')
P=$(node WalletNew '["secp256k1"]' | tr -d '"')
S=$(node WalletNew '["secp256k1"]' | tr -d '"')
kill -TERM "$dpid"; wait "$dpid"
rm -rf "$tmp/node/chain" "$tmp/node/genesis.json"
"$ST" genesis new --out "$tmp/g.json" --account "$O=1000" --account "$P=1000" --account "$S=1000" \
  --proving-period 48 --challenge-window 4 --challenge-lookback 2 --fault-cutoff 3 --precommit-challenge-delay 5 >/dev/null || die "genesis new"
start_daemon --genesis "$tmp/g.json" --producer "$P"

# ---- the registry and one storage node, mounted under the dist-path ----
mkdir -p "$tmp/dist/nfs/127.0.0.1"
"$SRV" run --listen 127.0.0.1:0 --repo "$tmp/srv" 2>>"$tmp/server.log" &
spid=$!
pids+=("$spid")
wait_file "$tmp/srv/api" "$spid" || die "the registry did not start"
api=$(cat "$tmp/srv/api")
R() { SPACETIME_SERVER_REPO=$tmp/srv "$SRV" "$@" --server-api "$api" --token "$(cat "$tmp/srv/token")"; }
R storage-nodes add --host 127.0.0.1 --type nfs >/dev/null || die "storage-nodes add"
R storage-nodes heartbeat 1 --path "$tmp/dist/nfs/127.0.0.1" >/dev/null || die "storage-nodes heartbeat"

# ---- the miner ----
out=$(M init --owner "$O" 2>&1) || die "init: $out"
[[ $out == *"miner t01000 created"* ]] || fail "init said: $out"
[[ $(jq -r .Miner "$tmp/miner/config.json") == t01000 ]] || fail "config.json: $(cat "$tmp/miner/config.json")"
out=$(M init --owner "$O" 2>&1) && fail "a second init succeeded"
[[ $out == *"already holds a miner"* ]] || fail "second init: $out"
M sectors pledge >/dev/null || die "sectors pledge"
[[ $(M sectors pledge --json | jq .SectorNumber) == 2 ]] || fail "the second pledge is not sector 2"
start_miner --confidence 1

proving() { [[ $(M sectors list --json | jq '[.[] | select(.State == "Proving")] | length') -ge 2 ]]; }
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
[[ $out == "ERROR: sector 77 of t01000 is neither in this repo's sealing database nor on chain" ]] || fail "sectors status 77: $out"
d=$(M proving deadlines --json | jq '[.[] | select(.sectors > 0)][0].deadline')
dl=$(M proving deadline "$d")
[[ $dl == *"Deadline Idx: $d"* && $dl == *"Partitions: 1"* && $dl == *"Sectors: 1,2"* && $dl == *"Faults: none"* ]] || fail "proving deadline $d: $dl"
[[ $(M proving deadline "$d" --json | jq -r '.partitions[0].sectors') == "1,2" ]] || fail "proving deadline --json"
out=$(M proving deadline 99 2>&1) && fail "proving deadline 99 succeeded"
[[ $out == "ERROR: deadline 99 does not exist: this network has deadlines 0 to 11" ]] || fail "proving deadline 99: $out"
[[ $(M proving faults | wc -l) == 2 ]] || fail "proving faults: $(M proving faults)"
[[ $(M proving faults --json) == "[]" ]] || fail "proving faults --json: $(M proving faults --json)"
grep -q $'\tINFO\tstorageminer\tgenerating windowPost\t{"sectors": ' "$tmp/poster.log" || fail "no 'generating windowPost' line"
grep -q $'\tINFO\tstorageminer\tsubmitting window PoSt\t{"elapsed": ' "$tmp/poster.log" || fail "no 'submitting window PoSt' line"
grep -q $'\tINFO\tstorageminer\trunning windowPost\t{"chain-random": "' "$tmp/poster.log" || fail "no 'running windowPost' line"
grep -q $'\tINFO\tminer\tmined new block\t{"cid": "bafy' "$tmp/poster.log" || fail "no 'mined new block' line"
grep -q $'\tERROR\t' "$tmp/poster.log" && fail "errors in the log: $(grep $'\tERROR\t' "$tmp/poster.log" | head -3)"

# info: power is the proving sectors
info=$(M info)
echo "$info"
[[ $info == *"Miner: t01000"* && $info == *"Sector Size: 2KiB"* ]] || fail "info header: $info"
[[ $info == *"Byte Power:   4 KiB / 4 KiB (100.0000%)"* ]] || fail "info power: $info"
[[ $info == *"Proving: 4 KiB (0 B Faulty, 0.00%)"* ]] || fail "info proving: $info"
[[ $(M info --json | jq -r .Mode) == all ]] || fail "info --json mode"

# ---- kill -9 inside a deadline, restart: still proven ----
kill -9 "$mpid"; wait "$mpid" 2>/dev/null
start_miner --confidence 1
before=$(grep -c $'\tINFO\tstorageminer\twindow PoSt submitted\t' "$tmp/poster.log")
sleep 50 # a whole period
after=$(grep -c $'\tINFO\tstorageminer\twindow PoSt submitted\t' "$tmp/poster.log")
((after > before)) || fail "no window PoSt after the restart"
[[ $(node StateMinerFaults '["t01000", []]') == '[0]' ]] || fail "faults after the restart: $(node StateMinerFaults '["t01000", []]')"

kill -TERM "$mpid"; wait "$mpid"
[[ -e $tmp/miner/run.json ]] && fail "run.json left behind"
if ((failures)); then
  for f in daemon.log server.log miner.log; do echo "--- $f"; tail -20 "$tmp/$f"; done
  exit 1
fi
echo "ok"
