#!/usr/bin/env bash
# spacetime devnet: the whole cluster from one command. Checked:
# - --miners 2 --epochs N: the progress lines (genesis, daemon, registry, miners created,
#   sectors sealing / committed / proving, first block mined), exit 0, and no process left;
# - tipsets of two blocks: `chain list` shows several miners at one height;
# - every miner as one sealer and one poster process, each with its line;
# - a second run reuses the folder (no new genesis, the same miners), here with --sealers 2
#   --posters 3 (five processes a miner), and Ctrl-C stops it, exit 0, every child gone; kill -9 of devnet itself still stops its children (they get SIGTERM);
# - DIR/env (mode 0600): sourced, the short commands it prints work as printed;
# - bad flags and a half-made folder get clear errors.
set -u
ST=${1:?usage: $0 PATH-TO-spacetime}
tmp=$(mktemp -d)
bg=()
pids_of() { grep -o 'pid [0-9]*' "$1" | awk '{print $2}'; }
cleanup() {
  for p in "${bg[@]}"; do kill -9 "$p" 2>/dev/null; done
  # the children of the devnets this test started, by the pids they printed
  for f in "$tmp"/out*; do [[ -f $f ]] && for p in $(pids_of "$f"); do kill -9 "$p" 2>/dev/null; done; done
  rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
die() { echo "FAIL: $*"; for f in "$tmp"/dv/logs/*.log; do echo "--- $f"; tail -15 "$f"; done; exit 1; }
D=$tmp/dv
none_left() { # none_left OUTPUT-FILE : every pid devnet printed has exited
  local p
  for _ in $(seq 50); do
    local alive=""
    for p in $(pids_of "$1"); do kill -0 "$p" 2>/dev/null && alive+=" $p"; done
    [[ -z $alive ]] && return 0
    sleep 0.2
  done
  fail "processes still running after devnet stopped:$alive"
  return 1
}

# ---- a fresh folder, two miners, a fixed number of epochs ----
timeout 300 "$ST" devnet --dir "$D" --miners 2 --sectors 1 --epochs 45 >"$tmp/out1" 2>&1
rc=$?
cat "$tmp/out1"
((rc == 0)) || die "devnet --epochs exited $rc"
for want in "genesis: $D/genesis.json (network devnet" "daemon up: API /ip4/127.0.0.1/tcp/" "registry up: http://127.0.0.1:" \
  "storage node 1 (nfs 127.0.0.1) at $D/dist/nfs/127.0.0.1" "miner t01000 created on chain" "miner t01001 created on chain" \
  "miner t01000: sealer 1 running (pid " "miner t01001: poster 1 running (pid " \
  "miner t01000 running: 1 sealer(s) and 1 poster(s) sharing the registry's database" \
  "t01000: 1 sector(s) sealing" "t01001: 1 sector(s) committed on chain" "t01000: 1 sector(s) proving" "first block mined: t0100" \
  "source $D/env" "  spacetime-miner doctor" "ran 45 epochs" "stopped every process"; do
  grep -qF -- "$want" "$tmp/out1" || fail "no line with: $want"
done
none_left "$tmp/out1"
[[ -s $D/devnet.json && -d $D/dist/nfs/127.0.0.1/sealed ]] || fail "the folder lacks devnet.json or the storage node's sealed/"
ls "$D"/dist/nfs/127.0.0.1/sealed | grep -q '^s-t01001-1$' || fail "no sealed sector of t01001 on the storage node: $(ls "$D"/dist/nfs/127.0.0.1/sealed)"

# ---- the chain it left: some height holds a block of each miner ----
"$ST" daemon --repo "$D/node" --api 0 2>"$tmp/daemon.log" &
dpid=$!
bg+=("$dpid")
for _ in $(seq 100); do [[ -s $D/node/api ]] && break; sleep 0.1; done
list=$("$ST" chain list --repo "$D/node" --count 60)
two=$(grep -c 't01000, .*t01001, \|t01001, .*t01000, ' <<<"$list")
((two >= 1)) || fail "no tipset with blocks of both miners in: $list"
echo "tipsets with a block of each miner: $two of $(wc -l <<<"$list")"
kill -TERM "$dpid"
wait "$dpid"

# ---- a second run reuses the folder, with two sealers and three posters a miner; Ctrl-C stops it ----
"$ST" devnet --dir "$D" --sealers 2 --posters 3 >"$tmp/out2" 2>&1 &
vpid=$!
bg+=("$vpid")
for _ in $(seq 300); do grep -q "The cluster is up" "$tmp/out2" && break; sleep 0.1; done
grep -q "reusing $D: network devnet, 2 miner(s), 1 sector(s) each" "$tmp/out2" || fail "the second run did not reuse the folder: $(cat "$tmp/out2")"
grep -q "genesis:" "$tmp/out2" && fail "the second run made a new genesis"
grep -q "0 new" "$tmp/out2" || fail "the second run pledged again: $(grep running "$tmp/out2")"
grep -q "miner t01001: poster 3 running (pid [0-9]*, log $D/logs/poster-2-3.log)" "$tmp/out2" || fail "no third poster: $(grep running "$tmp/out2")"
# the printed short commands work as printed once DIR/env is sourced (0600: it holds the token)
[[ $(stat -c %a "$D/env") == 600 ]] || fail "$D/env has mode $(stat -c %a "$D/env"), want 600"
short=$(env -u FULLNODE_API_INFO -u MINER_API_INFO -u SPACETIME_PATH -u SPACETIME_MINER_PATH PATH=/usr/bin:/bin \
  bash -c "source '$D/env' && spacetime-miner info && spacetime-miner proving deadlines && spacetime chain list --count 3" 2>&1) ||
  fail "the short commands after source $D/env: $short"
[[ $short == *t01000* && $short == *partitions* ]] || fail "the short commands' output: $short"
procs=$(pgrep -f -- "--repo $D/miner-1 " | wc -l)
((procs == 5)) || fail "$procs spacetime-miner processes for miner-1, want 5 (2 sealers, 3 posters)"
sleep 2
kill -INT "$vpid"
wait "$vpid"
rc=$?
((rc == 0)) || fail "devnet exited $rc after Ctrl-C: $(tail -5 "$tmp/out2")"
grep -q "Interrupt: stopping" "$tmp/out2" || fail "no stopping line after Ctrl-C"
none_left "$tmp/out2"

# ---- kill -9 of devnet: its children still stop ----
"$ST" devnet --dir "$D" >"$tmp/out3" 2>&1 &
vpid=$!
bg+=("$vpid")
for _ in $(seq 300); do grep -q "The cluster is up" "$tmp/out3" && break; sleep 0.1; done
kill -9 "$vpid"
wait "$vpid" 2>/dev/null
none_left "$tmp/out3"
# and the next run starts cleanly from what they left
timeout 120 "$ST" devnet --dir "$D" --epochs 3 >"$tmp/out4" 2>&1 || fail "the run after kill -9 failed: $(cat "$tmp/out4")"
none_left "$tmp/out4"

# ---- bad input ----
out=$("$ST" devnet --dir "$tmp/x" --miners 9 2>&1) && fail "--miners 9 was accepted"
[[ $out == *"--miners must be 1 to 8"* ]] || fail "--miners 9: $out"
out=$("$ST" devnet --dir "$tmp/x" --posters 0 2>&1) && fail "--posters 0 was accepted"
[[ $out == *"--posters must be 1 to 8"* ]] || fail "--posters 0: $out"
out=$("$ST" devnet --dir "$tmp/x" --network moon 2>&1) && fail "--network moon was accepted"
[[ $out == *'network "moon" is not one of devnet, testnet2020, mainnet'* ]] || fail "--network moon: $out"
mkdir -p "$tmp/half/node"
out=$("$ST" devnet --dir "$tmp/half" 2>&1) && fail "a half-made folder was accepted"
[[ $out == *"holds a devnet whose setup did not finish (no devnet.json)"* ]] || fail "half-made folder: $out"
mkdir -p "$tmp/other" && touch "$tmp/other/notes.txt"
out=$("$ST" devnet --dir "$tmp/other" 2>&1) && fail "a folder of other files was accepted"
[[ $out == *"is not empty and holds no devnet (devnet.json)"* ]] || fail "a folder of other files: $out"

if ((failures)); then exit 1; fi
echo "ok"
