#!/usr/bin/env bash
# Servers that stay up for everyone (issue 25), against a running devnet on loopback: the
# daemon, the registry and the miner API each hold 1,000 idle and 200 byte-a-second clients
# while a new client's request (ChainHead, /health, /metrics) is answered; a 10,000-call batch
# is refused with and without a token and a 1,000-call one is answered with the daemon's peak
# memory under 256 MiB; an unauthenticated 60 MiB body is refused at its headers, before any of
# it is sent; /metrics counts what was refused. (Parked StateWaitMsg calls: test_daemon.sh; kill -9 and the pool:
# test_mpool_durable.sh; tokens on command lines: test_no_secrets.sh.)
set -u
ST=${1:?usage: $0 PATH-TO-spacetime}
FLOOD=$(dirname "$ST")/tests/st_flood
[[ -x $FLOOD ]] || { echo "FAIL: $FLOOD is not built"; exit 1; }
tmp=$(mktemp -d)
dv=
cleanup() {
  [[ -n $dv ]] && kill -INT "$dv" 2>/dev/null && wait "$dv" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
D=$tmp/dv

"$ST" devnet --dir "$D" --miners 1 --sectors 1 >"$tmp/out" 2>&1 &
dv=$!
for _ in $(seq 120); do
  [[ -s $D/miner-1/api && -s $D/server/api ]] && break
  kill -0 "$dv" 2>/dev/null || break
  sleep 0.5
done
[[ -s $D/miner-1/api ]] || { echo "FAIL: the devnet did not come up"; cat "$tmp/out"; exit 1; }
dport=$(cut -d/ -f5 "$D/node/api")
rport=$(sed 's/.*://' "$D/server/api")
mport=$(cut -d/ -f5 "$D/miner-1/api")
dpid=$(grep -o 'daemon up: .*(pid [0-9]*' "$tmp/out" | grep -o '[0-9]*$')
[[ -n $dpid ]] || { echo "FAIL: no daemon pid in devnet's output"; cat "$tmp/out"; exit 1; }
printf 'Authorization: Bearer %s\n' "$(cat "$D/node/token")" >"$tmp/auth.hdr" # no token on a command line
status_of() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

# ---- 1. idle and slow clients do not keep a new one out ----
head_req='{"jsonrpc":"2.0","id":1,"method":"Filecoin.ChainHead","params":[]}'
flood() { # flood NAME PORT PATH [BODY]
  local name=$1 port=$2 path=$3 body=${4-}
  local args=(--port "$port" --path "$path" --idle 1000 --slow 200 --probes 20)
  [[ -n $body ]] && args+=(--body "$body")
  local line
  line=$("$FLOOD" "${args[@]}") || { fail "$name: st_flood could not run"; return; }
  echo "$name: $line"
  local ok p50 max idle slow
  ok=$(grep -o 'ok=[0-9]*' <<<"$line" | cut -d= -f2)
  p50=$(grep -o 'p50_ms=[0-9.]*' <<<"$line" | cut -d= -f2)
  max=$(grep -o 'max_ms=[0-9.]*' <<<"$line" | cut -d= -f2)
  idle=$(grep -o 'idle_open=[0-9]*' <<<"$line" | cut -d= -f2)
  slow=$(grep -o 'slow_open=[0-9]*' <<<"$line" | cut -d= -f2)
  [[ $ok == 20 ]] || fail "$name: $ok of 20 new requests answered with 1,000 idle and 200 slow clients open"
  awk -v v="$p50" 'BEGIN {exit !(v < 100)}' || fail "$name: the median new request took $p50 ms (bound: 100 ms)"
  # the bound is the median's; a 2-core CI box may preempt one probe, so the slowest gets 1 s
  awk -v v="$max" 'BEGIN {exit !(v < 1000)}' || fail "$name: the slowest new request took $max ms"
  [[ $idle == 1000 && $slow == 200 ]] || fail "$name: the server dropped clients it had room for ($idle idle, $slow slow open)"
}
threads0=$(status_of "$dpid" Threads)
flood daemon "$dport" /rpc/v1 "$head_req"
flood registry "$rport" /health
flood miner "$mport" /metrics
threads1=$(status_of "$dpid" Threads)
echo "daemon threads: $threads0 before, $threads1 after 1,200 connections"
((threads1 <= threads0 + 4)) || fail "the daemon's threads grew from $threads0 to $threads1 with the connections"

# ---- 2. batches are bounded; memory stays bounded ----
batch() { # batch N : a batch of N ChainHead calls
  awk -v n="$1" 'BEGIN {printf "["; for (i = 1; i <= n; i++) printf "%s{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"Filecoin.ChainHead\",\"params\":[]}", (i > 1 ? "," : ""), i; printf "]"}'
}
batch 10000 >"$tmp/b10k"
batch 1000 >"$tmp/b1k"
code=$(curl -s -o "$tmp/r" -w '%{http_code}' -XPOST "http://127.0.0.1:$dport/rpc/v1" --data-binary @"$tmp/b10k")
[[ $code == 413 ]] && grep -q 'without a valid token' "$tmp/r" || fail "a 10,000-call batch without a token: $code $(head -c 300 "$tmp/r")"
code=$(curl -s -o "$tmp/r" -w '%{http_code}' -XPOST -H @"$tmp/auth.hdr" "http://127.0.0.1:$dport/rpc/v1" --data-binary @"$tmp/b10k")
[[ $code == 400 ]] && grep -q 'a batch of 10000 calls is more than the limit of 1000' "$tmp/r" || fail "a 10,000-call batch with a token: $code $(head -c 300 "$tmp/r")"
for _ in 1 2 3; do
  code=$(curl -s -o "$tmp/r" -w '%{http_code}' -XPOST -H @"$tmp/auth.hdr" "http://127.0.0.1:$dport/rpc/v1" --data-binary @"$tmp/b1k")
  [[ $code == 200 && $(jq length "$tmp/r") == 1000 ]] || fail "a 1,000-call batch with a token: $code"
done
hwm=$(status_of "$dpid" VmHWM)
echo "daemon peak RSS after the batches: $((hwm / 1024)) MiB (reply of one 1,000-call batch: $(($(stat -c %s "$tmp/r") / 1024)) KiB)"
((hwm < 256 * 1024)) || fail "the daemon's peak RSS reached $((hwm / 1024)) MiB"

# ---- 3. an unauthenticated 60 MiB body is refused at its headers ----
# the request's headers only, then wait: the 413 comes back before any of the body is sent
exec 3<>"/dev/tcp/127.0.0.1/$dport"
printf 'POST /rpc/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 62914560\r\n\r\n' >&3
reply=$(timeout 3 head -c 400 <&3 | tr -d '\r')
exec 3<&-
[[ $reply == "HTTP/1.1 413"* && $reply == *"larger than the limit of 65536 bytes for a request without a valid token"* ]] ||
  fail "an unauthenticated 60 MiB body: $reply"
# and curl sending it all: refused, with memory unchanged
head -c 62914560 /dev/zero | tr '\0' ' ' >"$tmp/big"
code=$(curl -s -o /dev/null -w '%{http_code}' -XPOST "http://127.0.0.1:$dport/rpc/v1" --data-binary @"$tmp/big")
[[ $code == 413 ]] || fail "curl's unauthenticated 60 MiB body: HTTP $code"
rm -f "$tmp/big"
hwm2=$(status_of "$dpid" VmHWM)
((hwm2 < hwm + 16 * 1024)) || fail "the daemon's peak RSS grew from $((hwm / 1024)) to $((hwm2 / 1024)) MiB for a refused body"

# the servers are still up for everyone
[[ $(curl -s -H @"$tmp/auth.hdr" -XPOST "http://127.0.0.1:$dport/rpc/v1" -d "$head_req" | jq '.result.Height') -ge 0 ]] || fail "ChainHead after the attacks"
[[ $(curl -s "http://127.0.0.1:$rport/health" | jq -r .status) == ok ]] || fail "registry /health after the attacks"
curl -sf "http://127.0.0.1:$mport/metrics" >/dev/null || fail "miner /metrics after the attacks"

# and say what they refused, in /metrics
m=$(curl -s "http://127.0.0.1:$dport/metrics")
grep -q '^spacetime_daemon_http_refused_total [1-9]' <<<"$m" || fail "the daemon's /metrics does not count the refused bodies: $(grep http_ <<<"$m")"
grep -q '^spacetime_daemon_head_height [0-9]' <<<"$m" || fail "the daemon's /metrics has no head height"
curl -s "http://127.0.0.1:$rport/metrics" | grep -q '^spacetime_registry_http_connections [0-9]' || fail "registry /metrics: no connection count"
curl -s "http://127.0.0.1:$mport/metrics" | grep -q '^spacetime_miner_http_timed_out_total [0-9]' || fail "miner /metrics: no timeout count"

((failures == 0)) && echo "PASS: test_hostile" || exit 1
