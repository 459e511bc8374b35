#!/usr/bin/env bash
# The message pool survives kill -9 (issue 25): five `spacetime send` calls each print a CID,
# the daemon is killed at once (no block was made: it runs without a producer), and after a
# restart on the same repo every CID is pending or on chain, the sender's next nonce is 5, each
# lands exactly once (the recipient gains exactly the five values), the chain goes on, and a
# second kill -9 after they landed brings nothing back.
set -u
ST=${1:?usage: test_mpool_durable.sh PATH-TO-spacetime}
tmp=$(mktemp -d)
# shellcheck source=tests/cmd/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"
crash() { kill -9 "$pid"; wait "$pid" 2>/dev/null; pid=; }

cli() { "$ST" "$@" --repo "$tmp/repo"; }
balance() { result WalletBalance "[\"$1\"]" | tr -d '"'; }
pending() { cli mpool pending | jq -r '.CID["/"]'; }
# found CID: pending in the pool, or on the head chain with exit code 0
found() { pending | grep -qx "$1" || [[ $(result StateSearchMsg "[[], {\"/\":\"$1\"}, -1, true]" | jq .Receipt.ExitCode) == 0 ]]; }
landed() { # landed CID : waits (up to 30 s) until it is on chain with exit code 0
  for _ in $(seq 150); do
    [[ $(result StateSearchMsg "[[], {\"/\":\"$1\"}, -1, true]" | jq .Receipt.ExitCode) == 0 ]] && return 0
    sleep 0.2
  done
  return 1
}

# ---- wallets, then a genesis that funds them ----
funded_wallets

# ---- five sends with no producer (nothing is mined), then kill -9 at once ----
start --genesis "$tmp/g.json"
b0=$(balance "$B")
cids=()
for v in 1 2 3 4 5; do
  c=$(cli send --from "$A" "$B" "0.$v") || fail "send 0.$v"
  [[ $c =~ ^bafy2bzace ]] || fail "send 0.$v printed '$c'"
  cids+=("$c")
done
[[ $(pending | wc -l) == 5 ]] || fail "the pool before the crash: $(pending | wc -l) message(s)"
crash

# ---- the restart finds them all, and the sender's nonce after them ----
start --producer "$P"
kept=()
for c in "${cids[@]}"; do
  if found "$c"; then kept+=("$c"); else fail "message $c is lost after kill -9 (neither pending nor on chain)"; fi
done
n=$(result MpoolGetNonce "[\"$A\"]")
[[ $n == 5 ]] || fail "MpoolGetNonce after the restart: $n, want 5"

# ---- the producer mines them, each exactly once ----
for c in "${kept[@]}"; do landed "$c" || fail "message $c did not land"; done
[[ $(result StateGetActor "[\"$A\", []]" | jq .Nonce) == 5 ]] || fail "A's nonce on chain: $(result StateGetActor "[\"$A\", []]" | jq .Nonce)"
b1=$(balance "$B")
[[ $(echo "$b1 - $b0" | bc) == 1500000000000000000 ]] || fail "B gained $(echo "$b1 - $b0" | bc) attoFIL, want 1.5 FIL"
[[ -z $(pending) ]] || fail "the pool after they landed: $(pending)"
h1=$(result ChainHead '[]' | jq .Height)
for _ in $(seq 100); do (( $(result ChainHead '[]' | jq .Height) > h1 )) && break; sleep 0.2; done
(( $(result ChainHead '[]' | jq .Height) > h1 )) || fail "the chain stopped at height $h1"

# ---- a second kill -9: nothing comes back, nothing is applied twice; sends go on from 5 ----
crash
start
[[ -z $(pending) ]] || fail "the pool after a second restart: $(pending)"
[[ $(result MpoolGetNonce "[\"$A\"]") == 5 ]] || fail "MpoolGetNonce after a second restart: $(result MpoolGetNonce "[\"$A\"]")"
[[ $(balance "$B") == "$b1" ]] || fail "B's balance changed after a second restart"
c=$(cli send --from "$A" "$B" 0.6)
[[ $(cli mpool pending | jq -r 'select(.CID["/"] == "'"$c"'") | .Message.Nonce') == 5 ]] || fail "a send after the restarts did not take nonce 5"

if [[ $failures -ne 0 ]]; then echo "$failures failure(s)"; sed 's/^/  daemon: /' "$tmp/daemon.log" | tail -20; exit 1; fi
echo "all mpool durability checks passed"
