# Sourced by the daemon's shell tests (test_daemon.sh, test_mpool_durable.sh): a daemon on a
# free loopback port in $tmp/repo, stopped by the test's EXIT trap (pid), and its admin token in
# $tmp/auth.hdr, where curl reads it (-H @file): no token on a command line. Needs ST and tmp.
pid=
daemon_cleanup() {
  [[ -n $pid ]] && kill -9 "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap daemon_cleanup EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

start() { # start ARGS... : the daemon on a free port; waits for its api file
  rm -f "$tmp/repo/api"
  "$ST" daemon --repo "$tmp/repo" --api 0 "$@" 2>>"$tmp/daemon.log" &
  pid=$!
  for _ in $(seq 100); do
    [[ -s $tmp/repo/api ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  [[ -s $tmp/repo/api ]] || { echo "FAIL: the daemon did not start"; cat "$tmp/daemon.log"; exit 1; }
  port=$(cut -d/ -f5 "$tmp/repo/api")
  token=$(cat "$tmp/repo/token")
  printf 'Authorization: Bearer %s\n' "$token" >"$tmp/auth.hdr"
}

rpc() { # rpc METHOD PARAMS-JSON [v0|v1] : prints the whole response; uses the admin token
  curl -s -XPOST -H @"$tmp/auth.hdr" "http://127.0.0.1:$port/rpc/${3:-v1}" --data-binary @- \
    <<<"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.$1\",\"params\":$2}"
}
result() { rpc "$@" | jq -c '.result'; }

funded_wallets() { # sets A, B and P: three wallet keys, funded with 1000 FIL each by $tmp/g.json
  "$ST" genesis new --out "$tmp/g0.json" >/dev/null || fail "genesis new without accounts"
  start --genesis "$tmp/g0.json" # the keys must exist before the genesis that funds them
  A=$(result WalletNew '["secp256k1"]' | tr -d '"')
  B=$(result WalletNew '["secp256k1"]' | tr -d '"')
  P=$(result WalletNew '["secp256k1"]' | tr -d '"')
  kill -TERM "$pid"
  wait "$pid"
  pid=
  rm -rf "$tmp/repo/chain" "$tmp/repo/genesis.json"
  "$ST" genesis new --out "$tmp/g.json" --account "$A=1000" --account "$B=1000" --account "$P=1000" >/dev/null ||
    fail "genesis new"
}
