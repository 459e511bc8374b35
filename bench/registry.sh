#!/usr/bin/env bash
# bench/registry.sh: HTTP throughput of the registry server, SQLite and PostgreSQL backends.
#
#   bench/registry.sh PATH/TO/spacetime-server        (BENCH_SECS=N sets each wrk run, default 10)
#
# For each backend it starts `spacetime-server run` on 127.0.0.1 (a free port, 4 request
# threads) with a fresh database, adds one storage node and declares one cache location through
# the CLI, then runs `wrk -t2 -c16 --latency` against
#   /health                                            the baseline: no database access
#   /v0/paths/t01003/2218/cache?dist_path=/mnt          a path resolution: one lookup and the path rule
# and prints requests/s and p99 latency for each, and resolve/health, the share of the baseline's
# rate that a resolution keeps. PostgreSQL is a throwaway server from tests/registry/with_postgres.sh
# (the script runs itself under it with --pg-child). Only the server this script started is killed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
secs=${BENCH_SECS:-10}
resolve_path='/v0/paths/t01003/2218/cache?dist_path=/mnt'
want_path='/mnt/nfs/10.10.4.23/cache/s-t01003-2218'

die() {
  echo "registry.sh: $*" >&2
  exit 1
}

# shellcheck source=bench/wrk.sh
source "$here/wrk.sh"

# run_wrk KEY NAME URL: measures (bench/wrk.sh) and prints one line.
run_wrk() {
  local name=$2 url=$3
  wrk_measure "$tmp/wrk-$backend-$1.txt" "$url" "$url"
  printf '  %-8s %-48s %12.0f req/s   p99 %8s ms%s\n' "$backend" "$name" "$rps" "$p99" "${errs:+   ($errs)}"
}

# measure BACKEND DB_URL RESULT_FILE: one server, both endpoints; appends a result line.
measure() {
  backend=$1
  local db=$2 result=$3 repo=$tmp/repo-$1
  registry_start "$bin" "$repo" "$db" "$tmp/server-$backend.log"
  "$bin" storage-nodes add --host 10.10.4.23 --group 1 --mount-host 10.10.4.23 --type nfs --repo "$repo" >/dev/null ||
    die "$backend: storage-nodes add failed"
  "$bin" sectors declare --miner t01003 --sector 2218 --kind cache --node 1 --repo "$repo" >/dev/null ||
    die "$backend: sectors declare failed"
  local got
  got=$("$bin" paths resolve --miner t01003 --sector 2218 --kind cache --dist-path /mnt --repo "$repo") ||
    die "$backend: paths resolve failed"
  [[ $got == *"$want_path"* ]] || die "$backend: paths resolve gave \"$got\", want $want_path"

  run_wrk health /health "$url/health"
  local h_rps=$rps h_p99=$p99
  run_wrk resolve "$resolve_path" "$url$resolve_path"
  local r_rps=$rps r_p99=$p99
  local ratio
  ratio=$(awk -v r="$r_rps" -v h="$h_rps" 'BEGIN { printf "%.2f", r / h }')
  printf '  %-8s resolve/health = %s\n' "$backend" "$ratio"
  echo "$backend $h_rps $h_p99 $r_rps $r_p99 $ratio" >>"$result"

  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}

command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"

if [[ ${1:-} == --pg-child ]]; then # internal: run under with_postgres.sh
  [[ $# -eq 3 ]] || die "usage: registry.sh --pg-child BIN RESULT"
  bin=$2
  [[ -n ${ST_TEST_PG:-} ]] || die "--pg-child needs ST_TEST_PG (run it under tests/registry/with_postgres.sh)"
  tmp=$(mktemp -d /tmp/st-bench-registry.XXXXXX)
  psql -q -v ON_ERROR_STOP=1 "$ST_TEST_PG/postgres" -c 'CREATE DATABASE bench' >/dev/null || die "could not create database bench"
  measure postgres "$ST_TEST_PG/bench" "$3"
  exit 0
fi

[[ $# -eq 1 && $1 != -* ]] || die "usage: bench/registry.sh PATH/TO/spacetime-server (BENCH_SECS=N, default 10)"
[[ -x $1 ]] || die "$1 is not an executable (build the spacetime-server target)"
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tmp=$(mktemp -d /tmp/st-bench-registry.XXXXXX)
result=$tmp/results

echo "registry: wrk -t2 -c16 -d${secs}s --latency, server --threads 4 on 127.0.0.1 ($(nproc) CPUs)"
measure sqlite "sqlite:$tmp/reg.db" "$result"
pg_ok=1
"$root/tests/registry/with_postgres.sh" "$0" --pg-child "$bin" "$result" || pg_ok=0

echo
printf '| %-8s | %12s | %13s | %5s | %11s |\n' backend 'health req/s' 'resolve req/s' ratio 'resolve p99'
printf '|%s|%s|%s|%s|%s|\n' ---------- -------------- --------------- ------- -------------
while read -r b h_rps h_p99 r_rps r_p99 ratio; do
  printf '| %-8s | %12.0f | %13.0f | %5s | %8s ms |\n' "$b" "$h_rps" "$r_rps" "$ratio" "$r_p99"
done <"$result"
[[ $pg_ok -eq 1 ]] || die "the PostgreSQL run failed (see above)"
