#!/usr/bin/env bash
# bench/cluster_claims.sh: lease claims per second through the registry, SQLite and PostgreSQL,
# as a ratio to /health measured in the same run.
#
#   bench/cluster_claims.sh PATH/TO/spacetime-server     (BENCH_SECS=N sets each wrk run, default 10)
#
# For each backend it starts `spacetime-server run` on 127.0.0.1 (4 request threads) with a fresh
# database, joins one machine (POST /v0/cluster/join), then runs wrk -t2 -c16 against
#   /health                 the baseline: no database access
#   /v0/cluster/claim       each request claims one new WindowPoSt partition (a fresh key per
#                           request: the INSERT of a claim, in its own transaction)
#   /v0/cluster/claim again the same key over and over by the machine that holds it (the
#                           compare-and-set UPDATE a step makes when it already holds the row)
# and prints requests/s, p99 and each one's ratio to /health. The token goes to wrk in a Lua file,
# not on a command line. Only the server this script started is killed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
secs=${BENCH_SECS:-10}

die() {
  echo "cluster_claims.sh: $*" >&2
  exit 1
}

# shellcheck source=bench/wrk.sh
source "$here/wrk.sh"

# lua FILE TOKEN MACHINE MODE: a wrk script POSTing claims; MODE new (a fresh partition each
# request, keyed by thread and counter) or same (one partition).
lua() {
  cat >"$1" <<EOF
local counter, tid = 0, 0
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function init(args) tid = tonumber(wrk.thread:get("tid") or 0) end
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $2"
wrk.headers["Content-Type"] = "application/json"
function request()
  counter = counter + 1
  local part = ("$4" == "new") and (tid * 100000000 + counter) or 0
  local body = string.format('{"kind": "wdpost", "miner": 1000, "machine": $3, "keys": [[96, 5, %d]]}', part)
  return wrk.format(nil, nil, nil, body)
end
EOF
}

# measure BACKEND DB_URL RESULT_FILE
measure() {
  local backend=$1 db=$2 result=$3 repo=$tmp/repo-$1
  registry_start "$bin" "$repo" "$db" "$tmp/server-$backend.log"
  local token machine
  token=$(cat "$repo/token")
  printf 'Authorization: Bearer %s\n' "$token" >"$tmp/auth.hdr"
  machine=$(curl -s -XPOST -H @"$tmp/auth.hdr" "$url/v0/cluster/join" \
    -d '{"miner": 1000, "host": "bench", "pid": 1, "roles": "poster", "version": "bench", "lease_secs": 3600}' | jq .machine)
  [[ $machine =~ ^[0-9]+$ ]] || die "$backend: join failed"
  lua "$tmp/new.lua" "$token" "$machine" new
  lua "$tmp/same.lua" "$token" "$machine" same
  wrk_measure "$tmp/wrk-$backend-health.txt" health "$url/health"
  local h=$rps hp=$p99
  wrk_measure "$tmp/wrk-$backend-new.txt" "claim (new)" "$url/v0/cluster/claim" -s "$tmp/new.lua"
  local n=$rps np=$p99
  wrk_measure "$tmp/wrk-$backend-same.txt" "claim (held)" "$url/v0/cluster/claim" -s "$tmp/same.lua"
  local s=$rps sp=$p99
  local claimed
  claimed=$(curl -s "$url/metrics" | awk '/cluster_work\{kind="wdpost",state="held"\}/ {print $2}')
  printf '  %-8s health %9.0f req/s (p99 %s ms); claim new %7.0f req/s (p99 %s ms); claim held %7.0f req/s (p99 %s ms); %s rows held\n' \
    "$backend" "$h" "$hp" "$n" "$np" "$s" "$sp" "${claimed:-?}"
  echo "$backend $h $n $np $s $sp" >>"$result"
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}

command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"

if [[ ${1:-} == --pg-child ]]; then # internal: run under with_postgres.sh
  bin=$2
  tmp=$(mktemp -d /tmp/st-bench-claims.XXXXXX)
  psql -q -v ON_ERROR_STOP=1 "$ST_TEST_PG/postgres" -c 'CREATE DATABASE bench' >/dev/null || die "could not create database bench"
  measure postgres "$ST_TEST_PG/bench" "$3"
  exit 0
fi

[[ $# -eq 1 && -x $1 ]] || die "usage: bench/cluster_claims.sh PATH/TO/spacetime-server (BENCH_SECS=N, default 10)"
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tmp=$(mktemp -d /tmp/st-bench-claims.XXXXXX)
result=$tmp/results
echo "cluster claims: wrk -t2 -c16 -d${secs}s --latency, server --threads 4 on 127.0.0.1 ($(nproc) CPUs)"
measure sqlite "sqlite:$tmp/reg.db" "$result"
pg_ok=1
"$root/tests/registry/with_postgres.sh" "$0" --pg-child "$bin" "$result" || pg_ok=0
echo
printf '| %-8s | %12s | %15s | %5s | %9s | %16s | %5s | %9s |\n' backend 'health req/s' 'claim new req/s' ratio 'p99' \
  'claim held req/s' ratio 'p99'
printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' ---------- -------------- ----------------- ------- ----------- ------------------ ------- -----------
while read -r b h n np s sp; do
  printf '| %-8s | %12.0f | %15.0f | %5.2f | %6s ms | %16.0f | %5.2f | %6s ms |\n' "$b" "$h" "$n" \
    "$(awk -v a="$n" -v b="$h" 'BEGIN {print a / b}')" "$np" "$s" "$(awk -v a="$s" -v b="$h" 'BEGIN {print a / b}')" "$sp"
done <"$result"
[[ $pg_ok -eq 1 ]] || die "the PostgreSQL run failed (see above)"
