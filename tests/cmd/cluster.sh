# Sourced by the tests that run the whole cluster on loopback (test_miner*.sh): the daemon with
# a genesis of short network parameters, the registry (SQLite) with one nfs storage node mounted
# under the dist-path, and helpers to call the daemon and drive spacetime-miner. Sets BIN, ST,
# SRV, MINER, tmp, O (the owner and worker), P (the bootstrap producer) and S (a sender);
# cleanup kills only the processes it started, by PID.
#   cluster_up GENESIS-FLAGS...   start it all and init the miner t01000 (with $MINER_INIT_FLAGS)
#   start_miner [FLAGS...]        `spacetime-miner run` in all mode with --server-api; sets mpid
#   miner_msgs                    the miner's PreCommitSector, ProveCommitSector and
#                                 SubmitWindowedPoSt messages on chain: "PRE COMMIT POSTS FAILED"
#                                 (FAILED: messages among them that did not exit 0)
# REGISTRY_DB (optional) is the registry's database URL; the default is SQLite in its repo.
# ST_STORAGE_ROOT (optional) is a folder the storage node's mount point links to (bench/poster_nfs.sh
# points it into an sshfs mount).
BIN=$(dirname "${1:?usage: $0 PATH-TO-spacetime}")
ST=$BIN/spacetime SRV=$BIN/spacetime-server MINER=$BIN/spacetime-miner
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do { kill -9 "$p" && wait "$p"; } 2>/dev/null; done
  [[ -n ${KEEP_TMP:-} ]] || rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
show_logs() { for f in daemon.log server.log miner.log; do echo "--- $f"; tail -"${1:-30}" "$tmp/$f"; done; }
die() { echo "FAIL: $*"; show_logs; exit 1; }
finish() {
  if ((failures)); then show_logs 20; exit 1; fi
  echo "ok"
}

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
node_raw() { # node_raw METHOD PARAMS : the daemon's whole response, as it sent it
  local port token
  port=$(cut -d/ -f5 "$tmp/node/api")
  token=$(cat "$tmp/node/token")
  # the token reaches curl on its standard input, not its command line
  printf 'Authorization: Bearer %s\n' "$token" | curl -s -XPOST -H @- "http://127.0.0.1:$port/rpc/v1" \
    -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.$1\",\"params\":$2}"
}
node() { node_raw "$@" | jq -c .result; } # the result (jq: integers above 2^53 lose digits)
M() { "$MINER" "$@" --repo "$tmp/miner" --node-repo "$tmp/node"; }
start_miner() {
  rm -f "$tmp/miner/api"
  SPACETIME_SERVER_TOKEN=$(cat "$tmp/srv/token") "$MINER" run --repo "$tmp/miner" --node-repo "$tmp/node" \
    --dist-path "$tmp/dist" --server-api "$api" --api 0 --log-file "$tmp/poster.log" "$@" 2>>"$tmp/miner.log" &
  mpid=$!
  pids+=("$mpid")
  wait_file "$tmp/miner/api" "$mpid" || die "the miner did not start"
}
source "$(dirname "${BASH_SOURCE[0]}")/wait.sh"
proving_count() { M sectors list --json | jq '[.[] | select(.State == "Proving")] | length'; }

cluster_up() {
  # the keys, then a genesis with short deadlines that funds them
  "$ST" genesis new --out "$tmp/g0.json" >/dev/null || die "genesis new"
  start_daemon --genesis "$tmp/g0.json"
  O=$(node WalletNew '["secp256k1"]' | tr -d '"')
  P=$(node WalletNew '["secp256k1"]' | tr -d '"')
  S=$(node WalletNew '["secp256k1"]' | tr -d '"')
  kill -TERM "$dpid"
  wait "$dpid"
  rm -rf "$tmp/node/chain" "$tmp/node/genesis.json"
  "$ST" genesis new --out "$tmp/g.json" --account "$O=1000" --account "$P=1000" --account "$S=1000" "$@" >/dev/null || die "genesis new"
  start_daemon --genesis "$tmp/g.json" --producer "$P"

  # the registry and one storage node, mounted under the dist-path
  mkdir -p "$tmp/dist/nfs"
  if [[ -n ${ST_STORAGE_ROOT:-} ]]; then ln -s "$ST_STORAGE_ROOT" "$tmp/dist/nfs/127.0.0.1"; else mkdir "$tmp/dist/nfs/127.0.0.1"; fi
  "$SRV" run --listen 127.0.0.1:0 --repo "$tmp/srv" ${REGISTRY_DB:+--db "$REGISTRY_DB"} 2>>"$tmp/server.log" &
  spid=$!
  pids+=("$spid")
  wait_file "$tmp/srv/api" "$spid" || die "the registry did not start"
  api=$(cat "$tmp/srv/api")
  R storage-nodes add --host 127.0.0.1 --type nfs >/dev/null || die "storage-nodes add"
  R storage-nodes heartbeat 1 --path "$tmp/dist/nfs/127.0.0.1" >/dev/null || die "storage-nodes heartbeat"

  local out
  out=$(M init --owner "$O" ${MINER_INIT_FLAGS:-} 2>&1) || die "init: $out"
  [[ $out == *"miner t01000 created"* ]] || fail "init said: $out"
}
R() { SPACETIME_SERVER_REPO=$tmp/srv "$SRV" "$@" --server-api "$api" --token-file "$tmp/srv/token"; }

miner_msgs() {
  local pre=0 commit=0 posts=0 failed=0 head h b msgs cid
  head=$(node ChainHead '[]' | jq .Height)
  for h in $(seq 1 "$head"); do
    for b in $(node ChainGetTipSetByHeight "[$h, []]" | jq -r 'select(.Height == '"$h"') | .Cids[]["/"]'); do
      msgs=$(node ChainGetBlockMessages "[{\"/\":\"$b\"}]")
      pre=$((pre + $(jq '[.SecpkMessages[].Message | select(.To == "t01000" and .Method == 6)] | length' <<<"$msgs")))
      commit=$((commit + $(jq '[.SecpkMessages[].Message | select(.To == "t01000" and .Method == 7)] | length' <<<"$msgs")))
      for cid in $(jq -r '. as $m | [range(0; .SecpkMessages | length)] | map(select($m.SecpkMessages[.].Message.To == "t01000" and
          ($m.SecpkMessages[.].Message.Method | IN(5, 6, 7)))) | .[] | $m.Cids[.]["/"]' <<<"$msgs"); do
        [[ $(node StateSearchMsg "[[], {\"/\":\"$cid\"}, -1, true]" | jq .Receipt.ExitCode) == 0 ]] || failed=$((failed + 1))
      done
      posts=$((posts + $(jq '[.SecpkMessages[].Message | select(.To == "t01000" and .Method == 5)] | length' <<<"$msgs")))
    done
  done
  echo "$pre $commit $posts $failed"
}
