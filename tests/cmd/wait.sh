# Sourced by the shell tests that wait on a cluster (cluster.sh, tests/hosts/test_hosts.sh).
#   until_ok SECONDS WHAT CMD...   retries CMD (quietly) each second; after SECONDS it calls the
#                                  test's own `die "WHAT (after SECONDSs)"`
#   miner_up LOG PID               waits up to 15 s for `spacetime-miner run` (PID) to log that
#                                  its API is on; fails at once if PID exits first
until_ok() {
  local secs=$1 what=$2
  shift 2
  for _ in $(seq "$secs"); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 1
  done
  die "$what (after ${secs}s)"
}

miner_up() {
  for _ in $(seq 150); do
    grep -q $'\tthe miner API is on ' "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
