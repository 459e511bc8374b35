# Sourced by the shell tests that wait on a cluster (cluster.sh, tests/hosts/test_hosts.sh).
#   until_ok SECONDS WHAT CMD...   retries CMD (quietly) each second; after SECONDS it calls the
#                                  test's own `die "WHAT (after SECONDSs)"`
until_ok() {
  local secs=$1 what=$2
  shift 2
  for _ in $(seq "$secs"); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 1
  done
  die "$what (after ${secs}s)"
}
