#!/usr/bin/env bash
# The storage market end to end on the loopback cluster (cluster.sh; the sender S is the verified
# registry's root key): S makes V a verifier, V grants the client C datacap, C puts FIL in
# escrow, imports a file and proposes a verified deal to t01000 with `spacetime client deal`
# (the miner is killed with kill -9 while it publishes, and restarted).
# The miner (which announced its deal address on chain) publishes it, seals the file into a
# sector and proves it: its raw power rises by the sector's 2 KiB and its quality-adjusted
# power by 10x that; the client's escrow pays the provider's every epoch from the start; `info`
# shows the miner's Market (Escrow) and (Locked); the explorer's StateDecodeParams reads the
# PublishStorageDeals message; `client retrieve` gets the file back byte for byte, unsealed
# from the sealed sector. Refusals say why and change nothing: a verified deal beyond the
# datacap, a deal without enough escrow, a start epoch passed, data that is not the piece.
set -u
source "$(dirname "$0")/cluster.sh" "$@"

cluster_up --proving-period 48 --challenge-window 4 --challenge-lookback 2 --fault-cutoff 3 --precommit-challenge-delay 5 --verifreg-root 102
start_miner --confidence 1
C() { "$ST" "$@" --repo "$tmp/node"; }
V=$(node WalletNew '["secp256k1"]' | tr -d '"')
K=$(node WalletNew '["secp256k1"]' | tr -d '"') # the client
for a in "$V" "$K"; do C send --from "$S" "$a" 100 >/dev/null || die "send to $a"; done
landed() { [[ $(node StateLookupID "[\"$K\", []]") == '"t0'* ]]; }
until_ok 30 "the client's account exists" landed

# the miner's deal address is on chain
announced() { [[ $(node StateMinerInfo '["t01000", []]' | jq -r '.Multiaddrs[0]') != null ]]; }
until_ok 30 "the miner announced its deal address" announced

# the verified registry
out=$(C filplus add-verifier --from "$V" "$K" 4096 2>&1) && fail "a non-root added a verifier"
[[ $out == *"is not the root key t0102"* ]] || fail "add-verifier by a non-root: $out"
out=$(C filplus add-verifier --from "$S" "$V" 1048576 2>&1) || die "add-verifier: $out"
out=$(C filplus grant-datacap --from "$V" "$K" 2048 2>&1) || die "grant-datacap: $out"
[[ $(C filplus check-client-datacap "$K") == "$K: 2048 bytes of datacap" ]] || fail "check-client-datacap: $(C filplus check-client-datacap "$K")"
[[ $(C filplus check-verifier "$V" --json) == '"1046528"' ]] || fail "check-verifier: $(C filplus check-verifier "$V" --json)"

# the file: 1500 bytes, a 2 KiB piece that fills the sector
head -c 1500 /dev/urandom >"$tmp/file"
imp=$(C client import "$tmp/file") || die "import: $imp"
piece=$(C client import "$tmp/file" --json | jq -r .PieceCID)
[[ $piece == baga6ea4sea* && $imp == *"Piece size: 2 KiB (2048 padded bytes)"* && $imp == *"Payload:    1500 bytes"* ]] || fail "import: $imp"

deal() { C client deal --miner t01000 --price 0.000000000000001 --duration 1500 "$@"; }
market() { node StateMarketDeals '[[]]'; }
[[ $(market) == '{}' ]] || fail "deals before any: $(market)"

# refusals, each naming the reason, with no state change
out=$(deal --from "$K" --verified "$tmp/file" 2>&1) && fail "a deal without escrow was proposed"
[[ $out == "ERROR: $K has 0 FIL free in market escrow, the deal locks 0.0000000000015 FIL (price x duration + collateral): add funds with 'spacetime client add-balance'" ]] ||
  fail "deal without escrow: $out"
out=$(C client add-balance --from "$K" 1 2>&1) || die "add-balance: $out"
[[ $(C client balance "$K" --json | jq -r .Escrow) == 1000000000000000000 ]] || fail "balance: $(C client balance "$K")"
out=$(deal --verified --from "$V" "$tmp/file" 2>&1) && fail "a verified deal beyond the datacap was proposed"
[[ $out == "ERROR: a verified deal of 2048 bytes exceeds $V's datacap of 0 bytes"* ]] || fail "deal beyond the datacap: $out"
out=$(deal --from "$K" --verified --start-epoch 3 "$tmp/file" 2>&1) && fail "a deal starting in the past was accepted"
[[ $out == "ERROR: miner t01000 refused the deal: StartEpoch 3 is too soon: the chain is at epoch "*"; start at "*" or later" ]] || fail "deal start passed: $out"
head -c 1500 /dev/urandom >"$tmp/other"
other=$(C client import "$tmp/other" --json | jq -r .PieceCID)
out=$(deal --from "$K" --verified --manual-piece-cid "$other" "$tmp/file" 2>&1) && fail "a deal whose data is not its piece was accepted"
[[ $out == *"refused the deal: "*"the data does not match the proposal's piece: 1500 bytes have CommP $piece"*"the proposal says $other"* ]] || fail "deal with another piece: $out"
[[ $(market) == '{}' && $(M storage-deals list --json | jq length) == 0 ]] || fail "refusals left deals: $(market)"
[[ $(C filplus check-client-datacap "$K" --json) == '"2048"' ]] || fail "refusals used datacap"

# the verified deal
raw0=$(M info --json | jq -r .RawBytePower) qa0=$(M info --json | jq -r .QualityAdjPower)
out=$(deal --from "$K" --verified --provider-collateral 0.000000000000001 "$tmp/file" 2>&1) || die "deal: $out"
[[ $out == "deal proposed: "* && $out == *"state StorageDealPublish"* ]] || fail "deal: $out"
pcid=$(awk '/^deal proposed:/ {print $3}' <<<"$out")
# before it is published: no deal ID or sector yet, "-" in the table and null in JSON, never -1
ld=$(C client list-deals)
[[ $ld == *"$pcid"* && $ld != *"-1"* ]] || fail "list-deals before publishing: $ld"
[[ $(C client list-deals --json | jq ".[] | select(.ProposalCid == \"$pcid\") | .DealID | . == null or . >= 0") == true ]] ||
  fail "list-deals --json before publishing: $(C client list-deals --json)"
# kill -9 of the miner while it publishes: after a restart the deal goes on, published once
sleep 1
kill -9 "$mpid"
wait "$mpid" 2>/dev/null
start_miner --confidence 1
active() { C client list-deals --json | jq -e ".[] | select(.ProposalCid == \"$pcid\" and .State == \"StorageDealActive\")"; }
until_ok 150 "the deal is active" active
ld=$(C client list-deals)
[[ $ld == *"$pcid"*"StorageDealActive"*"true"*"active since"* && $ld != *"-1"* ]] || fail "list-deals: $ld"
[[ $ld == *"not paid yet"* || $ld == *"paid to "* ]] || fail "list-deals, payments: $ld"
[[ $(C client list-deals --json) != *"-1"* ]] || fail "list-deals --json has -1: $(C client list-deals --json)"
id=$(C client list-deals --json | jq ".[] | select(.ProposalCid == \"$pcid\") | .DealID")
sector=$(C client list-deals --json | jq ".[] | select(.ProposalCid == \"$pcid\") | .SectorNumber")
[[ $(market | jq length) == 1 ]] || fail "the deal was published $(market | jq length) times"
[[ $(C filplus check-client-datacap "$K") == "$K has no datacap" ]] || fail "datacap after the deal: $(C filplus check-client-datacap "$K")"
onchain=$(node StateMarketStorageDeal "[$id, []]")
[[ $(jq -r .Proposal.PieceCID[\"/\"] <<<"$onchain") == "$piece" && $(jq .Proposal.VerifiedDeal <<<"$onchain") == true &&
  $(jq .State.SectorStartEpoch <<<"$onchain") -gt 0 ]] || fail "StateMarketStorageDeal: $onchain"

# power: raw +2 KiB, quality-adjusted +10 x 2 KiB
powered() { [[ $(M info --json | jq -r .RawBytePower) == $((raw0 + 2048)) ]]; }
until_ok 30 "raw power includes the deal's sector" powered
info=$(M info --json)
[[ $(jq -r .QualityAdjPower <<<"$info") == $((qa0 + 20480)) ]] || fail "QA power $(jq -r .QualityAdjPower <<<"$info"), want $((qa0 + 20480)) (raw $(jq -r .RawBytePower <<<"$info"))"
echo "deal $id in sector $sector: raw $(jq -r .RawBytePower <<<"$info"), quality-adjusted $(jq -r .QualityAdjPower <<<"$info")"
[[ $(M info) == *"Actual Power: 20 Ki"* ]] || fail "info: $(M info | grep Power)"

# payments, each epoch from the start: the client's escrow to the provider's
start=$(jq .Proposal.StartEpoch <<<"$onchain")
started() { (($(node ChainHead '[]' | jq .Height) > start + 2)); }
until_ok 150 "the deal started" started
escrows() { # escrows VAR-PREFIX: the provider's and the client's escrow at one tipset, and its height
  local head tsk
  head=$(node ChainHead '[]')
  tsk=$(jq -c .Cids <<<"$head")
  printf -v "$1e" %s "$(node StateMarketBalance "[\"t01000\", $tsk]" | jq -r .Escrow)"
  printf -v "$1c" %s "$(node StateMarketBalance "[\"$K\", $tsk]" | jq -r .Escrow)"
  printf -v "$1h" %s "$(jq .Height <<<"$head")"
}
escrows a
sleep 4
escrows b
e1=$ae c1=$ac h1=$ah e2=$be c2=$bc
((e2 > e1 && c1 - c2 == e2 - e1)) || fail "escrow did not move from client to provider: provider $e1 -> $e2, client $c1 -> $c2"
echo "escrow moved: provider $e1 -> $e2 attoFIL, client $c1 -> $c2 (from height $h1)"
# the miner put its collateral (1000 attoFIL) in escrow itself before publishing; it stays locked
[[ $(M info --json | jq -r .MarketEscrow) -ge $e2 && $(M info --json | jq -r .MarketLocked) == 1000 ]] || fail "info --json market: $(M info --json)"
[[ $(M info) == *"Market (Escrow):  0.0000000000"*"Market (Locked):  0.000000000000001"* ]] || fail "info market: $(M info | grep Market)"

# the explorer's decoder reads the publish message
pub=$(M storage-deals list --json | jq -r ".[] | select(.ProposalCid == \"$pcid\") | .PublishCid")
msg=$(node ChainGetMessage "[{\"/\": \"$pub\"}]")
dec=$(node StateDecodeParams "[\"t05\", 4, $(jq .Params <<<"$msg"), []]")
[[ $(jq -r '.Deals[0].Proposal.PieceCID["/"]' <<<"$dec") == "$piece" && $(jq .Deals[0].ClientSignature.Type <<<"$dec") == 1 ]] || fail "StateDecodeParams: $dec"

# retrieval: unsealed from the sealed sector, checked against the piece
[[ ! -e $tmp/dist/nfs/127.0.0.1/unsealed/s-t01000-$sector ]] || fail "an unsealed copy was kept"
out=$(C client retrieve "$piece" "$tmp/back") || fail "retrieve: $out"
cmp "$tmp/file" "$tmp/back" || fail "the retrieved bytes differ from the file"
[[ $out == "retrieved $piece from t01000: 1500 bytes, CommP checked, written to $tmp/back" ]] || fail "retrieve said: $out"
out=$(C client retrieve "$other" "$tmp/none" --miner t01000 2>&1) && fail "retrieving a piece the miner lacks succeeded"
[[ $out == *"HTTP 404: "*"stores no piece $other"* ]] || fail "retrieve unknown: $out"
grep -q $'\tINFO\tmarkets\tpiece retrieved\t' "$tmp/miner.log" || fail "no retrieval log line"
# unsealing showed its progress: the key's layers, up to 100%
unseal=$(grep -h $'\tunsealing progress\t' "$tmp/miner.log" "$tmp/poster.log" 2>/dev/null | cut -f5 | jq -c "select(.sector == $sector) | .percent" | tail -1)
[[ $unseal == 100 ]] || fail "unsealing progress of sector $sector ended at: $unseal"
finish
