#!/usr/bin/env bash
# No secret on a command line: /proc/PID/cmdline is readable by every local user. A devnet (as
# test_devnet.sh runs it) is brought up, and the command line of every process of its tree, read
# from start-up until the cluster has sealed and mined, must not hold the registry's write token,
# the daemon's or a miner's admin token, or any JWT (a string starting "eyJ"). Only the pids this
# test started, and their children, are read or stopped.
set -u
ST=${1:?usage: $0 PATH-TO-spacetime}
tmp=$(mktemp -d)
vpid=
descendants() { # descendants PID : PID and every process below it, from /proc's parent links
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$1" '
    { s = $0; sub(/.*\) /, "", s); split(s, f, " "); parent[$1] = f[2] }
    END {
      keep[root] = 1
      for (grew = 1; grew;) { grew = 0; for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; grew = 1 } }
      for (p in keep) printf "%s ", p
    }'
}
cleanup() {
  if [[ -n $vpid ]]; then
    local tree
    tree=$(descendants "$vpid")
    for p in $tree; do kill -9 "$p" 2>/dev/null; done
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
D=$tmp/dv

# snapshot: appends "PID<TAB>command line" of every process of the devnet's tree, once a pid
snapshot() {
  local p line
  for p in $(descendants "$vpid"); do
    [[ -r /proc/$p/cmdline ]] || continue
    line=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)
    [[ -n $line ]] && printf '%s\t%s\n' "$p" "$line" >>"$tmp/cmdlines"
  done
}

"$ST" devnet --dir "$D" --miners 1 --sectors 1 >"$tmp/out" 2>&1 &
vpid=$!
# every short-lived step too (spacetime-server storage-nodes add, spacetime-miner init): read often
for _ in $(seq 3000); do
  snapshot
  grep -q "first block mined" "$tmp/out" && break
  kill -0 "$vpid" 2>/dev/null || break
  sleep 0.05
done
grep -q "The cluster is up" "$tmp/out" || { cat "$tmp/out"; for f in "$D"/logs/*.log; do echo "--- $f"; tail -15 "$f"; done; fail "the devnet did not come up"; exit 1; }
snapshot
sort -u "$tmp/cmdlines" -o "$tmp/cmdlines"

# the secrets it made: the registry's write token, the daemon's and each miner's admin token (JWTs)
secrets=()
for f in "$D/server/token" "$D/node/token" "$D"/miner-*/token "$D"/miner-*/server-token; do
  [[ -s $f ]] && secrets+=("$(head -1 "$f")")
done
((${#secrets[@]} >= 3)) || fail "found ${#secrets[@]} token files under $D, want the registry's, the daemon's and the miner's"

programs=$(cut -f2 "$tmp/cmdlines" | awk '{print $1}' | xargs -n1 basename 2>/dev/null | sort -u | tr '\n' ' ')
echo "read $(wc -l <"$tmp/cmdlines") command lines of: $programs"
for want in spacetime spacetime-server spacetime-miner; do
  [[ " $programs " == *" $want "* ]] || fail "no command line of $want was read"
done
while IFS=$'\t' read -r pid line; do
  for s in "${secrets[@]}"; do
    [[ $line == *"$s"* ]] && fail "pid $pid has a token on its command line: ${line//$s/<token>}"
  done
  [[ $line == *eyJ* ]] && fail "pid $pid has a JWT on its command line: $line"
  [[ $line == *--server-token\ * || $line == *--token\ * ]] && fail "pid $pid passes a token flag: $line"
done <"$tmp/cmdlines"

kill -INT "$vpid"
wait "$vpid"
vpid=
if ((failures)); then exit 1; fi
echo "ok"
