#!/usr/bin/env bash
# Drives `spacetime daemon` over its JSON-RPC API on loopback, as a Lotus client would: the
# version a Lotus client checks, JSON-RPC errors, a transfer whose fee lands on the block's
# producer, refused messages that change nothing, and kill -9 in the middle of a burst of
# messages followed by a restart that finds head, balances and nonces consistent.
set -u
ST=${1:?usage: test_daemon.sh PATH-TO-spacetime}
tmp=$(mktemp -d)
# shellcheck source=tests/cmd/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"

# ---- wallets first (the keys must exist before the genesis that funds them) ----
funded_wallets
start --genesis "$tmp/g.json" --producer "$P"

# ---- the version Lotus clients check, and JSON-RPC errors ----
[[ $(result Version '[]' | jq .APIVersion) == 131840 ]] || fail "v1 APIVersion"
[[ $(result Version '[]' v0 | jq .APIVersion) == 66816 ]] || fail "v0 APIVersion"
out=$(curl -s -XPOST "http://127.0.0.1:$port/rpc/v1" -d '{"jsonrpc":"2.0","id":1,"method":')
[[ $(jq .error.code <<<"$out") == -32700 ]] || fail "malformed JSON: $out"
out=$(rpc NoSuchMethod '[]')
[[ $(jq .error.code <<<"$out") == -32601 ]] || fail "unknown method: $out"
out=$(rpc WalletBalance '["not-an-address"]')
[[ $(jq .error.code <<<"$out") == -32602 && $(jq -r .error.message <<<"$out") == *"param 1 (address)"* ]] || fail "bad params: $out"
code=$(curl -s -o "$tmp/out" -w '%{http_code}' -XPOST "http://127.0.0.1:$port/rpc/v1" \
  -d '{"jsonrpc":"2.0","id":1,"method":"Filecoin.WalletNew","params":["secp256k1"]}')
[[ $code == 401 ]] || fail "a write without a token gave HTTP $code"

# ---- a transfer: B gets the value, the producer P gets the whole fee ----
a0=$(result WalletBalance "[\"$A\"]" | tr -d '"'); b0=$(result WalletBalance "[\"$B\"]" | tr -d '"'); p0=$(result WalletBalance "[\"$P\"]" | tr -d '"')
msg="{\"Version\":0,\"To\":\"$B\",\"From\":\"$A\",\"Nonce\":0,\"Value\":\"5000000000000000000\",\"GasLimit\":0,\"GasFeeCap\":\"0\",\"GasPremium\":\"0\",\"Method\":0,\"Params\":null}"
signed=$(result MpoolPushMessage "[$msg, null]")
cid=$(jq -c .CID <<<"$signed")
[[ $cid != null ]] || fail "MpoolPushMessage: $(rpc MpoolPushMessage "[$msg, null]")"
lookup=$(result StateWaitMsg "[$cid, 1, -1, true]")
[[ $(jq .Receipt.ExitCode <<<"$lookup") == 0 ]] || fail "StateWaitMsg: $lookup"
gas=$(jq .Receipt.GasUsed <<<"$lookup")
a1=$(result WalletBalance "[\"$A\"]" | tr -d '"'); b1=$(result WalletBalance "[\"$B\"]" | tr -d '"'); p1=$(result WalletBalance "[\"$P\"]" | tr -d '"')
fee=$(echo "$p1 - $p0" | bc)
[[ $(echo "$b1 - $b0" | bc) == 5000000000000000000 ]] || fail "B received $(echo "$b1 - $b0" | bc)"
[[ $(echo "$a0 - $a1 - 5000000000000000000" | bc) == "$fee" ]] || fail "A paid $(echo "$a0 - $a1" | bc), the producer received $fee"
[[ $(echo "$fee > 0" | bc) == 1 && $gas -gt 0 ]] || fail "no fee reached the producer ($fee for $gas gas)"

# ---- the other read methods, in Lotus's shapes ----
incl=$(jq -c '.TipSet' <<<"$lookup")
# the child: the first tipset above the one that included it (null rounds may come between)
h=$(jq .Height <<<"$lookup"); k=$((h + 1))
for _ in $(seq 100); do
  child=$(result ChainGetTipSetByHeight "[$k, []]")
  [[ $child != null ]] && (( $(jq .Height <<<"$child") > h )) && break
  [[ $child != null ]] && k=$((k + 1)) || sleep 0.2
done
child=$(jq -c '.Cids[0]' <<<"$child")
[[ $(result ChainGetParentMessages "[$child]" | jq -c '[.[].Cid]') == "[$cid]" ]] || fail "ChainGetParentMessages: $(result ChainGetParentMessages "[$child]")"
[[ $(result ChainGetParentReceipts "[$child]" | jq '.[0].GasUsed') == "$gas" ]] || fail "ChainGetParentReceipts"
[[ $(result ChainGetTipSet "[$incl]" | jq .Height) == $(jq .Height <<<"$lookup") ]] || fail "ChainGetTipSet"
[[ $(result ChainGetGenesis '[]' | jq .Height) == 0 ]] || fail "ChainGetGenesis"
[[ $(result ChainGetParentMessages "[$(result ChainGetGenesis '[]' | jq -c '.Cids[0]')]") == null ]] || fail "genesis parent messages are not null"
[[ $(result ChainGetMessage "[$cid]" | jq -r .To) == "$B" ]] || fail "ChainGetMessage"
[[ $(result StateSearchMsg "[$cid]" v0 | jq .Receipt.ExitCode) == 0 ]] || fail "StateSearchMsg v0"
[[ $(result StateSearchMsg "[[], {\"/\":\"bafy2bzacecesrkxghscnq7vatble2hqdvwat6ed23vdu4vvo3uuggsoaya7ki\"}, -1, true]") == null ]] || fail "StateSearchMsg of an unknown message is not null"
[[ $(result GasEstimateMessageGas "[$msg, null, []]" | jq '.GasLimit > 0') == true ]] || fail "GasEstimateMessageGas"
[[ $(result WalletSign "[\"$A\", \"aGVsbG8=\"]" | jq .Type) == 1 ]] || fail "WalletSign"
[[ $(result AuthVerify "[\"$token\"]" | jq -c .) == '["read","write","sign","admin"]' ]] || fail "AuthVerify"
[[ $(result StateLookupID "[\"$B\", []]") == '"t0101"' ]] || fail "StateLookupID"
out=$(rpc StateLookupID '["t1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", []]')
[[ $(jq -r '.error.message // empty' <<<"$out") != "" ]] || fail "StateLookupID of an unknown address: $out"
out=$(rpc SyncSubmitBlock '[{"Header":{}}]')
[[ $(jq .error.code <<<"$out") == -32602 ]] || fail "SyncSubmitBlock with an empty header: $out"

# ---- the client verbs, as an operator uses them ----
cli() { "$ST" "$@" --repo "$tmp/repo"; }
line=$(cli chain list --count 2 | tail -1)
[[ $line =~ ^[0-9]+:\ \([A-Z][a-z]{2}\ [\ 0-9]{2}\ [0-9]{2}:[0-9]{2}:[0-9]{2}\)\ \[\ bafy2bzace[a-z2-7]+:\ t0102,\ \]$ ]] || fail "chain list: $line"
[[ $(cli chain list --count 2 | wc -l) == 2 ]] || fail "chain list --count 2"
[[ $(cli chain head) =~ ^bafy2bzace ]] || fail "chain head: $(cli chain head)"
[[ $(cli wallet list | sort) == $(printf '%s\n' "$A" "$B" "$P" | sort) ]] || fail "wallet list: $(cli wallet list)"
[[ $(cli wallet default) == "$A" ]] || fail "wallet default: $(cli wallet default)"
[[ $(cli wallet balance "$B") == "1005 FIL" ]] || fail "wallet balance: $(cli wallet balance "$B")"
[[ $(cli state lookup "$A") == t0100 ]] || fail "state lookup: $(cli state lookup "$A")"
[[ $(cli state lookup --reverse t0101) == "$B" ]] || fail "state lookup --reverse: $(cli state lookup --reverse t0101)"
[[ $(cli state get-actor "$B" | head -2) == $'Address:\tt0101\nBalance:\t1005 FIL' ]] || fail "state get-actor: $(cli state get-actor "$B")"
[[ $(cli wallet export "$A") =~ ^[0-9a-f]{100,}$ ]] || fail "wallet export"
sent=$(cli send "$B" 0.5)
[[ $sent =~ ^bafy2bzace ]] || fail "send: $sent"
read_token=$(cli auth create-token --perm read)
code=$(printf 'Authorization: Bearer %s\n' "$read_token" | curl -s -o /dev/null -w '%{http_code}' -XPOST -H @- "http://127.0.0.1:$port/rpc/v1" \
  -d '{"jsonrpc":"2.0","id":1,"method":"Filecoin.WalletNew","params":["secp256k1"]}')
[[ $code == 401 ]] || fail "a read token could call WalletNew (HTTP $code)"
out=$("$ST" chain getblock nonsense --repo "$tmp/repo" 2>&1); [[ $? == 1 && $out == ERROR:* ]] || fail "chain getblock nonsense: $out"
out=$("$ST" send "$B" lots --repo "$tmp/repo" 2>&1); [[ $? == 1 && $out == ERROR:* ]] || fail "send lots: $out"
out=$("$ST" chain head --repo "$tmp/nowhere" 2>&1); [[ $? == 1 && $out == *"is the daemon running?"* ]] || fail "no daemon: $out"
result StateWaitMsg "[{\"/\":\"$sent\"}, 1, -1, true]" >/dev/null
b1=$(result WalletBalance "[\"$B\"]" | tr -d '"')

# ---- refused: a replay, funds A does not have; nothing changes ----
out=$(rpc MpoolPush "[$signed]")
[[ $(jq -r .error.message <<<"$out") == *"nonce 0 was already used"* ]] || fail "replay: $out"
forged=$(jq -c '.Message.Nonce = 2 | .Message.Value = "1"' <<<"$signed")
out=$(rpc MpoolPush "[$forged]")
[[ $(jq -r .error.message <<<"$out") == *"signature"* ]] || fail "a message changed after signing: $out"
big="{\"Version\":0,\"To\":\"$B\",\"From\":\"$A\",\"Nonce\":0,\"Value\":\"99999000000000000000000\",\"GasLimit\":0,\"GasFeeCap\":\"0\",\"GasPremium\":\"0\",\"Method\":0,\"Params\":null}"
out=$(rpc MpoolPushMessage "[$big, null]")
[[ $(jq -r .error.message <<<"$out") == *"insufficient funds"* || $(jq -r .error.message <<<"$out") == *"SysErrInsufficientFunds"* ]] || fail "funds: $out"
[[ $(result MpoolGetNonce "[\"$A\"]") == 2 ]] || fail "nonce after refusals: $(result MpoolGetNonce "[\"$A\"]")"

# ---- waits for a message that never comes: parked without a thread, limited per client, and
# freed as soon as their client goes (issue 25, finding 6) ----
unknown='{"/":"bafy2bzacecesrkxghscnq7vatble2hqdvwat6ed23vdu4vvo3uuggsoaya7ki"}'
wait_req="{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.StateWaitMsg\",\"params\":[$unknown, 0, -1, true]}"
waiters=()
for _ in $(seq 64); do # the limit for one client, then they all hang up
  curl -s --max-time 6 -XPOST "http://127.0.0.1:$port/rpc/v1" -d "$wait_req" >/dev/null &
  waiters+=($!)
done
sleep 3 # 64 curls have started and are parked
out=$(curl -s --max-time 3 -XPOST "http://127.0.0.1:$port/rpc/v1" -d "$wait_req")
[[ $(jq -r .error.message <<<"$out") == *"64 calls from 127.0.0.1 are waiting already"* ]] || fail "a 65th StateWaitMsg from one client: $out"
[[ $(curl -s --max-time 2 "http://127.0.0.1:$port/health" | jq -r .status) == ok ]] || fail "/health while 64 waits are parked"
[[ $(result ChainHead '[]' | jq .Height) -ge 0 ]] || fail "ChainHead while 64 waits are parked"
wait "${waiters[@]}"
sleep 0.5 # the server sees each hang-up within 100 ms
curl -s --max-time 2 -XPOST "http://127.0.0.1:$port/rpc/v1" -d "$wait_req" >"$tmp/w.out"
rc=$?
[[ $rc == 28 ]] || fail "a StateWaitMsg after 64 clients went away was not parked (curl $rc): $(cat "$tmp/w.out")"

# ---- kill -9 during a burst of messages; the restart is consistent ----
for i in $(seq 1 30); do
  rpc MpoolPushMessage "[{\"Version\":0,\"To\":\"$B\",\"From\":\"$A\",\"Nonce\":0,\"Value\":\"1\",\"GasLimit\":0,\"GasFeeCap\":\"0\",\"GasPremium\":\"0\",\"Method\":0,\"Params\":null}, null]" >/dev/null &
  [[ $i == 15 ]] && { sleep 1; kill -9 "$pid"; }
done
wait 2>/dev/null # the daemon is dead: only the senders are left to wait for
pid=
start --producer "$P"
head=$(result ChainHead '[]' | jq .Height)
[[ $head -ge 1 ]] || fail "head after restart: $head"
nonce=$(result StateGetActor "[\"$A\", []]" | jq .Nonce)
b2=$(result WalletBalance "[\"$B\"]" | tr -d '"')
# every applied message moved 1 attoFIL (after 5 FIL and 0.5 FIL): the nonce and the balance agree
[[ $(echo "$b2 - $b1" | bc) == $((nonce - 2)) ]] || fail "after kill -9: nonce $nonce but B got $(echo "$b2 - $b1" | bc) attoFIL"
# and every one of them is found on the head chain with its receipt
for h in $(seq 1 "$head"); do
  ts=$(result ChainGetTipSetByHeight "[$h, []]")
  [[ $(jq .Height <<<"$ts") == "$h" ]] || continue
  for blk in $(jq -c '.Cids[]' <<<"$ts"); do
    for m in $(result ChainGetBlockMessages "[$blk]" | jq -c '.Cids[]'); do
      [[ $(result StateSearchMsg "[[], $m, -1, true]" | jq .Receipt.ExitCode) == 0 ]] || fail "message $m at height $h has no receipt"
    done
  done
done
# a clean stop does not wait for StateWaitMsg calls in progress
curl -s --max-time 5 -XPOST "http://127.0.0.1:$port/rpc/v1" \
  -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.StateWaitMsg\",\"params\":[$unknown, 0, -1, true]}" >/dev/null &
waiter=$!
sleep 0.3
started=$(date +%s)
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=
[[ $rc == 0 ]] || fail "SIGTERM exit status $rc"
(( $(date +%s) - started <= 3 )) || fail "the daemon took $(( $(date +%s) - started )) s to stop"
wait "$waiter"

# ---- the seed's command line: --server-api=URL --bootstrap=false --api PORT ----
# --bootstrap is accepted with one line saying it does nothing; --server-api is checked at start
# and each epoch and shown in /health and /metrics, a registry down first and then up.
out=$("$ST" daemon --repo "$tmp/repo" --bootstrap=maybe 2>&1); rc=$?
[[ $rc == 1 && $out == *"--bootstrap must be true or false"* ]] || fail "--bootstrap=maybe: $out (exit $rc)"
start --server-api=http://127.0.0.1:1 --bootstrap=false
grep -q -- "--bootstrap=false: this daemon has no libp2p peers to dial; nothing to do" "$tmp/daemon.log" ||
  fail "no --bootstrap notice"
grep -q "registry http://127.0.0.1:1 does not answer" "$tmp/daemon.log" || fail "no registry warning at start"
h=$(curl -s "http://127.0.0.1:$port/health")
[[ $(jq -c '[.registry.url, .registry.reachable]' <<<"$h") == '["http://127.0.0.1:1",false]' &&
  $(jq -r .registry.error <<<"$h") == *"could not reach"* ]] || fail "/health with the registry down: $h"
curl -s "http://127.0.0.1:$port/metrics" | grep -qx "spacetime_daemon_registry_up 0" || fail "/metrics registry_up 0"
kill -TERM "$pid"; wait "$pid"; pid=
SRV=$(dirname "$ST")/spacetime-server
SPACETIME_SERVER_REPO=$tmp/srv "$SRV" run --listen 127.0.0.1:0 2>"$tmp/server.log" &
srv=$!
for _ in $(seq 100); do [[ -s $tmp/srv/api ]] && break; sleep 0.1; done
url=$(tr -d '\n' <"$tmp/srv/api")
SPACETIME_SERVER_API=$url start --bootstrap=false # the URL from the environment, as Lotus users set it
h=$(curl -s "http://127.0.0.1:$port/health")
[[ $(jq -c '[.registry.url, .registry.reachable, .registry.error]' <<<"$h") == "[\"$url\",true,\"\"]" ]] ||
  fail "/health with the registry up: $h"
curl -s "http://127.0.0.1:$port/metrics" | grep -qx "spacetime_daemon_registry_up 1" || fail "/metrics registry_up 1"
grep -q "registry $url answers" "$tmp/daemon.log" || fail "no registry line at start"
kill -TERM "$pid"; wait "$pid"; pid=
kill -TERM "$srv"; wait "$srv"

if [[ $failures -ne 0 ]]; then echo "$failures failure(s)"; sed 's/^/  daemon: /' "$tmp/daemon.log" | tail -20; exit 1; fi
echo "all daemon checks passed"
