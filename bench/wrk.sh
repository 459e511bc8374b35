# bench/wrk.sh: what the wrk benchmarks share (sourced by registry.sh, daemon.sh and
# cluster_claims.sh, which define die). Sourcing it sets an EXIT trap that stops the server the
# script started (its pid in server_pid) and removes its folder (tmp); registry_start starts the
# registry. wrk_measure OUT NAME URL [WRK ARGS...] runs wrk -t2 -c16 for $secs seconds and
# sets rps, p99 (ms) and errs; it dies if wrk fails, any answer was not 2xx, or its output lacks
# either figure.

# wrk prints latencies as 203.00us, 1.23ms, 1.02s or 1.50m; this gives milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (match(v, /^[0-9.]+/) == 0) { print "?"; exit }
    n = substr(v, 1, RLENGTH); u = substr(v, RLENGTH + 1)
    f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : -1
    if (f < 0) { print "?"; exit }
    printf "%.3f", n * f
  }'
}

wrk_measure() {
  local out=$1 name=$2 url=$3
  shift 3
  wrk -t2 -c16 -d"${secs}s" --latency "$@" "$url" >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed against $url"; }
  if grep -q 'Non-2xx or 3xx responses' "$out"; then
    cat "$out" >&2
    die "$name answered with errors under load"
  fi
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  p99=$(awk '$1 == "99%" {print $2}' "$out")
  [[ -n $rps && -n $p99 ]] || { cat "$out" >&2; die "could not read Requests/sec or the 99% line from wrk's output ($name)"; }
  p99=$(to_ms "$p99")
  errs=$(grep 'Socket errors' "$out" || true)
}

server_pid=
tmp=
bench_cleanup() {
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  [[ -n $tmp ]] && rm -rf "$tmp"
  return 0
}
trap bench_cleanup EXIT

# registry_start BIN REPO DB LOG: `spacetime-server run` with 4 request threads on a free
# loopback port; sets server_pid and url (its address), dies if it does not serve within 10 s.
registry_start() {
  local bin=$1 repo=$2 db=$3 log=$4
  "$bin" run --repo "$repo" --listen 127.0.0.1:0 --db "$db" --threads 4 >"$log" 2>&1 &
  server_pid=$!
  url=
  for _ in $(seq 100); do
    [[ -s $repo/api ]] && { url=$(head -n1 "$repo/api"); break; }
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n $url ]] || { cat "$log" >&2; die "the server did not write $repo/api within 10 s"; }
  case $url in http://127.0.0.1:*) ;; *) die "the server listens on $url, not on 127.0.0.1" ;; esac
}
