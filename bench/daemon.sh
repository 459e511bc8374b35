#!/usr/bin/env bash
# bench/daemon.sh: HTTP throughput of the chain daemon's JSON-RPC API.
#
#   bench/daemon.sh PATH/TO/spacetime        (BENCH_SECS=N sets each wrk run, default 10)
#
# It writes a devnet genesis with one funded account, starts `spacetime daemon` on 127.0.0.1 (a
# free port, its own temp repo, no block producer, so the head stays at the genesis tipset),
# checks that Filecoin.ChainHead answers with a JSON-RPC result, then runs `wrk -t2 -c16
# --latency` against
#   GET  /health                     the baseline: same server, reads the head height only
#   POST /rpc/v1 Filecoin.ChainHead  JSON-RPC parse, dispatch, the head tipset as Lotus JSON
# and prints requests/s and p99 latency for each, and ChainHead/health, the share of the
# baseline's rate that a ChainHead call keeps. Then it opens 1,000 idle connections
# (tests/st_flood beside the program, built with the tests) and measures ChainHead again:
# ChainHead with idle/without, and the daemon's RSS and threads with and without them. Only the
# daemon this script started is killed.
set -euo pipefail

secs=${BENCH_SECS:-10}
# The compressed secp256k1 generator point: the public key of secret key 1. The account only
# needs to exist; nothing signs with it.
pubkey=0279BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798
body='{"jsonrpc":"2.0","id":1,"method":"Filecoin.ChainHead","params":[]}'

die() {
  echo "daemon.sh: $*" >&2
  exit 1
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/wrk.sh
source "$here/wrk.sh"

# run_wrk KEY NAME URL [WRK ARGS...]: measures (bench/wrk.sh) and prints one line; socket errors
# (timeouts, resets) are printed with the figures.
run_wrk() {
  local key=$1 name=$2 url=$3
  shift 3
  wrk_measure "$tmp/wrk-$key.txt" "$name" "$url" "$@"
  printf '  %-32s %12.0f req/s   p99 %8s ms%s\n' "$name" "$rps" "$p99" "${errs:+   ($errs)}"
}

# check_chainhead URL: the reply must be a JSON-RPC 2.0 result holding a tipset at height 0.
check_chainhead() {
  local out
  out=$(curl -sS --max-time 10 -XPOST -H 'Content-Type: application/json' -d "$body" "$1") || die "curl $1 failed"
  jq -e '.jsonrpc == "2.0" and .id == 1 and (has("error") | not) and (.result.Cids | length) >= 1 and .result.Height == 0' \
    <<<"$out" >/dev/null || die "ChainHead did not answer with a JSON-RPC result for the genesis tipset: ${out:0:400}"
}

command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"
flood=$(dirname "$1")/tests/st_flood
[[ -x $flood ]] || die "$flood is not built (cmake --build BUILD --target st_flood)"
command -v curl >/dev/null || die "curl is not installed"
command -v jq >/dev/null || die "jq is not installed"
[[ $# -eq 1 && $1 != -* ]] || die "usage: bench/daemon.sh PATH/TO/spacetime (BENCH_SECS=N, default 10)"
[[ -x $1 ]] || die "$1 is not an executable (build the spacetime target)"
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tmp=$(mktemp -d /tmp/st-bench-daemon.XXXXXX)
repo=$tmp/repo

addr=$("$bin" util address encode --secp256k1-pubkey "$pubkey") || die "util address encode failed"
addr=${addr%%[[:space:]]*}
[[ $addr == t1* ]] || die "util address encode gave \"$addr\", not a t1 address"
"$bin" genesis new --out "$tmp/genesis.json" --account "$addr=1000" >/dev/null || die "genesis new failed"

"$bin" daemon --repo "$repo" --genesis "$tmp/genesis.json" --api 0 >"$tmp/daemon.log" 2>&1 &
server_pid=$!
maddr=
for _ in $(seq 100); do # up to 10 s
  if [[ -s $repo/api ]]; then
    maddr=$(head -n1 "$repo/api")
    break
  fi
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z $maddr ]]; then
  cat "$tmp/daemon.log" >&2
  die "the daemon did not write $repo/api within 10 s"
fi
# /ip4/127.0.0.1/tcp/PORT/http
[[ $maddr =~ ^/ip4/127\.0\.0\.1/tcp/([0-9]+)/http$ ]] || die "the daemon listens on $maddr, not on 127.0.0.1"
base=http://127.0.0.1:${BASH_REMATCH[1]}
[[ -s $repo/token ]] || die "the daemon wrote no $repo/token"

check_chainhead "$base/rpc/v1"
health=$(curl -sS --max-time 10 "$base/health") || die "GET /health failed"
jq -e '.status == "ok" and .height == 0' <<<"$health" >/dev/null || die "/health answered $health"

# wrk's Lua script: every request is the same POST.
cat >"$tmp/chainhead.lua" <<EOF
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
EOF

echo "daemon: wrk -t2 -c16 -d${secs}s --latency against 127.0.0.1 ($(nproc) CPUs shared by wrk and the daemon)"
run_wrk health 'GET /health' "$base/health"
h_rps=$rps h_p99=$p99
run_wrk chainhead 'POST /rpc/v1 Filecoin.ChainHead' "$base/rpc/v1" -s "$tmp/chainhead.lua"
c_rps=$rps c_p99=$p99
check_chainhead "$base/rpc/v1" # still answering correctly after the load
kill -0 "$server_pid" 2>/dev/null || die "the daemon died under load"
ratio=$(awk -v c="$c_rps" -v h="$h_rps" 'BEGIN { printf "%.2f", c / h }')
printf '  ChainHead/health = %s\n' "$ratio"

# the same with 1,000 idle connections held open for the whole run
status_of() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$server_pid/status"; }
rss0=$(status_of VmRSS) thr0=$(status_of Threads)
"$flood" --port "${base##*:}" --idle 1000 --probes 0 --hold $((secs + 4)) >"$tmp/flood.txt" 2>&1 &
flood_pid=$!
sleep 2
rss1=$(status_of VmRSS) thr1=$(status_of Threads)
run_wrk idle 'ChainHead, 1,000 idle conns open' "$base/rpc/v1" -s "$tmp/chainhead.lua"
i_rps=$rps i_p99=$p99
wait "$flood_pid" || die "st_flood failed: $(cat "$tmp/flood.txt")"
grep -q 'idle_open=1000' "$tmp/flood.txt" || die "the daemon closed idle connections during the run: $(cat "$tmp/flood.txt")"
iratio=$(awk -v c="$i_rps" -v h="$c_rps" 'BEGIN { printf "%.2f", c / h }')
printf '  ChainHead with 1,000 idle / without = %s; daemon RSS %d -> %d KiB, threads %d -> %d\n' "$iratio" "$rss0" "$rss1" \
  "$thr0" "$thr1"

echo
printf '| %-34s | %9s | %10s |\n' request 'req/s' p99
printf '|%s|%s|%s|\n' ------------------------------------ ----------- ------------
printf '| %-34s | %9.0f | %7s ms |\n' 'GET /health (baseline)' "$h_rps" "$h_p99"
printf '| %-34s | %9.0f | %7s ms |\n' 'POST /rpc/v1 Filecoin.ChainHead' "$c_rps" "$c_p99"
printf '| %-34s | %9s | %10s |\n' 'ratio ChainHead/health' "$ratio" ''
printf '| %-34s | %9.0f | %7s ms |\n' 'ChainHead, 1,000 idle conns open' "$i_rps" "$i_p99"
printf '| %-34s | %9s | %10s |\n' 'ratio with idle/without' "$iratio" ''
printf '| %-34s | %9s | %10s |\n' 'daemon RSS, threads (without)' "$((rss0 / 1024)) MiB" "$thr0"
printf '| %-34s | %9s | %10s |\n' 'daemon RSS, threads (1,000 idle)' "$((rss1 / 1024)) MiB" "$thr1"
