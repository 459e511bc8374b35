#!/usr/bin/env bash
# Drives `spacetime util` as an operator would: published vectors in, exact text and JSON out;
# every bad input must give exactly one "ERROR: ..." line on stderr, nothing on stdout, exit 1.
set -u
ST=${1:?usage: test_util.sh PATH-TO-spacetime}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

ok() { # ok WANT_STDOUT ARGS... : exit 0 and exactly this stdout
  local want=$1; shift
  local got rc
  got=$("$ST" "$@" 2>"$tmp/stderr"); rc=$?
  if [[ $rc -ne 0 || "$got" != "$want" ]]; then
    echo "FAIL: spacetime $*"; echo "  want: $want"; echo "  got:  $got (exit $rc)"; sed 's/^/  stderr: /' "$tmp/stderr"
    failures=$((failures + 1))
  fi
}

ok_stdin() { # ok_stdin FILE WANT ARGS...
  local in=$1 want=$2; shift 2
  local got rc
  got=$("$ST" "$@" <"$in" 2>"$tmp/stderr"); rc=$?
  if [[ $rc -ne 0 || "$got" != "$want" ]]; then
    echo "FAIL: spacetime $* < $in"; echo "  want: $want"; echo "  got:  $got (exit $rc)"; failures=$((failures + 1))
  fi
}

bad() { # bad WANT_SUBSTRING ARGS... : exit 1, empty stdout, one ERROR line containing WANT
  local want=$1; shift
  local out rc lines
  out=$("$ST" "$@" 2>"$tmp/stderr" </dev/null); rc=$?
  lines=$(wc -l <"$tmp/stderr")
  if [[ $rc -ne 1 || -n "$out" || $lines -ne 1 ]] || ! grep -q "^ERROR: " "$tmp/stderr" || ! grep -qF -- "$want" "$tmp/stderr"; then
    echo "FAIL: spacetime $* (want one ERROR line containing: $want)"; echo "  exit $rc, stdout: $out"; sed 's/^/  stderr: /' "$tmp/stderr"
    failures=$((failures + 1))
  fi
}

bad_stdin() { # bad_stdin FILE WANT ARGS...
  local in=$1 want=$2; shift 2
  local out rc
  out=$("$ST" "$@" <"$in" 2>"$tmp/stderr"); rc=$?
  if [[ $rc -ne 1 || -n "$out" || $(wc -l <"$tmp/stderr") -ne 1 ]] || ! grep -qF -- "$want" "$tmp/stderr"; then
    echo "FAIL: spacetime $* < $in (want: $want)"; sed 's/^/  stderr: /' "$tmp/stderr"; failures=$((failures + 1))
  fi
}

# ---- addresses (vectors.json "addresses") ----
PUB=049402fac37e6432a416a3a0ca5426b5185ab3b24f6134efa25ce487c82d2e4e13bf452511e0d2245421f8613bc10d72fa216666a96c3bc13920d3ff233fd0bc05
ok t15ihq5ibzwki2b4ep2f46avlkrqzhpqgtga7pdrq util address encode --secp256k1-pubkey $PUB
ok f15ihq5ibzwki2b4ep2f46avlkrqzhpqgtga7pdrq util address encode --secp256k1-pubkey $PUB --network f
ok t15ihq5ibzwki2b4ep2f46avlkrqzhpqgtga7pdrq util address encode --secp256k1-pubkey 039402fac37e6432a416a3a0ca5426b5185ab3b24f6134efa25ce487c82d2e4e13
ok t24vg6ut43yw2h2jqydgbg2xq7x6f4kub3bg6as6i util address encode --actor-data 76128190cdf068d1418044acc03e0b6781970d60
ok t3vvmn62lofvhjd2ugzca6sof2j2ubwok6cj4xxbfzz4yuxfkgobpihhd2thlanmsh3w2ptld2gqkn2jvlss4a util address encode --bls-pubkey ad58df696e2d4e91ea86c881e938ba4ea81b395e12797b84b9cf314b9546705e839c7a99d606b247ddb4f9ac7a3414dd
ok t00 util address encode --id 0
ok t01024 util address encode --id 1024
ok t0999999 util address encode --id 999999
ok '{"address":"t01024","protocol":0,"protocol_name":"id","payload":"8008","bytes":"008008"}' util address encode --id 1024 --json
ok "$(printf 'network:  t (testnet)\nprotocol: 1 (secp256k1)\npayload:  ea0f0ea039b291a0f08fd179e0556a8c3277c0d3')" util address decode t15ihq5ibzwki2b4ep2f46avlkrqzhpqgtga7pdrq
ok "$(printf 'network:  f (mainnet)\nprotocol: 0 (id)\npayload:  8008\nid:       1024')" util address decode f01024
ok '{"address":"t01024","network":"t","protocol":0,"protocol_name":"id","payload":"8008","bytes":"008008","id":1024}' util address decode t01024 --json
bad "invalid address checksum" util address decode t15ihq5ibzwki2b4ep2f46avlkrqzhpqgtga7pdra
bad "unknown address network 'x'" util address decode x01024
bad "unknown address protocol '9'" util address decode t91024
bad "invalid address length" util address decode t0
bad "must be less than 2^63" util address decode t09223372036854775808
bad "invalid base32 character 'A' at position 0" util address decode t1AAAAAAAA
bad "give one address" util address decode
bad "give exactly one of" util address encode
bad "give exactly one of" util address encode --id 1 --actor-data 00
bad "--secp256k1-pubkey: invalid hex character 'z'" util address encode --secp256k1-pubkey zz
bad "must be 33 (compressed) or 65 (uncompressed) bytes" util address encode --secp256k1-pubkey 0401
bad "not a point on the curve" util address encode --secp256k1-pubkey 05$(printf '%064d' 0)
bad "a BLS public key is 48 bytes" util address encode --bls-pubkey 00
bad "--id: \"-5\" is not an unsigned decimal number" util address encode --id -5
bad "IDs must be less than 2^63" util address encode --id 9223372036854775808
bad "--network: \"x\" is not t" util address encode --id 1 --network x
bad "unknown flag --foo" util address encode --foo
bad "flag --id needs a value" util address encode --id
bad "expected NS:HEX" util address encode --delegated 10
bad "longer than 54" util address encode --delegated 10:$(printf '%0110d' 0)

# ---- CIDs (vectors.json "cids": 0x40 and 0x80 are whole CBOR objects) ----
printf '\x40' >"$tmp/empty-bytes.cbor"
printf '\x80' >"$tmp/empty-array.cbor"
ok bafy2bzacea456askyutsf7uk4ta2q5aojrlcji4mhaqokbfalgvoq4ueeh4l2 util cid "$tmp/empty-bytes.cbor"
ok_stdin "$tmp/empty-array.cbor" bafy2bzacebc3bt6cedhoyw34drrmjvazhu4oj25er2ebk4u445pzycvq4ta4a util cid
ok_stdin "$tmp/empty-array.cbor" bafy2bzacebc3bt6cedhoyw34drrmjvazhu4oj25er2ebk4u445pzycvq4ta4a util cid -
ok '{"cid":"bafy2bzacea456askyutsf7uk4ta2q5aojrlcji4mhaqokbfalgvoq4ueeh4l2","size":1}' util cid --json "$tmp/empty-bytes.cbor"
printf '\x61' >"$tmp/a.bin"            # the byte 'a' is a truncated text header, not an object
printf '\x9f\x01\xff' >"$tmp/indef.cbor"
printf '\x82\x01\x18\x05' >"$tmp/nonmin.cbor"
printf '\x01\x02' >"$tmp/trailing.cbor"
: >"$tmp/empty.cbor"
bad "cbor: text string of length 1 at offset 0 runs past the end of the input" util cid "$tmp/a.bin"
bad "cbor: indefinite-length array at offset 0" util cid "$tmp/indef.cbor"
bad "cbor: non-minimal encoding of integer 5 at offset 2" util cid "$tmp/nonmin.cbor"
bad "cbor: 1 trailing byte after the item, at offset 1" util cid "$tmp/trailing.cbor"
bad "cbor: unexpected end of input at offset 0" util cid "$tmp/empty.cbor"
bad_stdin "$tmp/indef.cbor" "indefinite-length array" util cid
bad "could not read from path=\"$tmp/missing\": No such file or directory (os error 2)" util cid "$tmp/missing"
bad "Is a directory" util cid "$tmp"
bad "unexpected extra argument" util cid a b

# ---- CBOR diagnostic notation and DAG-JSON ----
printf '\xa2\x61\x61\x01\x61\x62\x83\x41\x00\x63\x78\x79\x7a\xf6' >"$tmp/map.cbor"
ok '{"a": 1, "b": [h'"'"'00'"'"', "xyz", null]}' util cbor dump "$tmp/map.cbor"
ok '{"a":1,"b":[{"/":{"bytes":"AA"}},"xyz",null]}' util cbor dump --json "$tmp/map.cbor"
printf '\xd8\x2a\x58\x27\x00\x01\x71\xa0\xe4\x02\x20\x45\xb0\xcf\xc2\x20\xce\xec\x5b\x7c\x1c\x62\xc4\xd4\x19\x3d\x38\xe4\xeb\xa4\x8e\x88\x15\x72\x9c\xe7\x5f\x9c\x0a\xb0\xe4\xc1\xc0' >"$tmp/cid.cbor"
ok '{"/":"bafy2bzacebc3bt6cedhoyw34drrmjvazhu4oj25er2ebk4u445pzycvq4ta4a"}' util cbor dump --json "$tmp/cid.cbor"
printf '\xa2\x61\x62\x01\x61\x61\x02' >"$tmp/unsorted.cbor"
bad "map key \"a\" at offset 4 is out of canonical order" util cbor dump "$tmp/unsorted.cbor"
printf '\xc1\x01' >"$tmp/tag1.cbor"
bad "tag 1 at offset 0 is not allowed" util cbor dump "$tmp/tag1.cbor"
head -c 100 /dev/zero | tr '\0' '\201' >"$tmp/deep.cbor"; printf '\x80' >>"$tmp/deep.cbor"
bad "nesting deeper than 64 levels" util cbor dump "$tmp/deep.cbor"

# ---- RLE+ bitfields (vectors.json "rleplus") ----
ok 7c472202 util bitfield encode 0,2,4,5,6,11-27
ok 7c472202 util bitfield encode 0,2,4-6,11-27
ok "" util bitfield encode ""
ok 0c util bitfield encode 0
ok 18 util bitfield encode 1
ok 54 util bitfield encode 0,1
ok b002 util bitfield encode 5
ok 802c util bitfield encode 100
ok 0,2,4,5,6,11-27 util bitfield decode 7c472202
ok 100 util bitfield decode 802c
ok "" util bitfield decode ""
ok '{"hex":"7c472202","set":"0,2,4,5,6,11-27","count":22}' util bitfield encode 27,26,0,2,4-6,11-25 --json
ok '{"set":"0,1","count":2}' util bitfield decode 54 --json
bad "RLE+: not minimally encoded (trailing zero byte)" util bitfield decode 7c00
bad "RLE+: invalid RLE+ version 1" util bitfield decode 01
bad "invalid hex character 'x'" util bitfield decode 0x54
bad "odd number of hex digits" util bitfield decode 545
bad "range at position 0 ends (1) before it starts (3)" util bitfield encode 3-1
bad "unexpected ';' at position 1" util bitfield encode "1;2"
bad "give one set" util bitfield encode

# ---- commp (go-fil-commp-hashhash testdata/0xCC.txt: 1017 bytes of 0xCC) ----
head -c 1017 /dev/zero | tr '\0' '\314' >"$tmp/cc1017"
ok $'CID: baga6ea4seaqf3n5ob5qonkwnxfcbjzftsagbnrjfzualqvzhcylz46b7sgz6wmi\nPiece size: 2048\nPayload size: 1017' util commp "$tmp/cc1017"
ok_stdin "$tmp/cc1017" '{"cid":"baga6ea4seaqf3n5ob5qonkwnxfcbjzftsagbnrjfzualqvzhcylz46b7sgz6wmi","piece_size":2048,"payload_size":1017}' util commp --json -
bad 'could not read from path="/nonexistent/piece": No such file or directory' util commp /nonexistent/piece
bad "util commp needs a FILE" util commp
bad "could not read from path=\"$tmp\": Is a directory" util commp "$tmp"

# ---- the program itself ----
ok "spacetime 0.1.0" --version
bad "unknown command \"nope\"" nope
bad "unknown verb \"frob\"" util frob
bad "unknown verb \"address frob\"" util address frob
if ! "$ST" util bitfield encode --help | grep -q "usage: spacetime util bitfield encode SET"; then echo "FAIL: --help"; failures=$((failures + 1)); fi
SPACETIME_LOG_LEVEL=loud "$ST" --version >/dev/null 2>"$tmp/stderr" && { echo "FAIL: bad SPACETIME_LOG_LEVEL accepted"; failures=$((failures + 1)); }
grep -q 'unknown log level "loud"' "$tmp/stderr" || { echo "FAIL: SPACETIME_LOG_LEVEL message"; failures=$((failures + 1)); }

# ---- WindowPoSt deadlines (vectors.json "deadlines"; the seed's log line) ----
SEED='{"CurrentEpoch":43710,"PeriodStart":40830,"Index":30,"Open":43710,"Close":43806,"Challenge":43690,"FaultCutoff":43690}'
DL=(util deadline --network testnet2020 --period-start 40830 --index 30 --epoch 43710)
# --json is Lotus's whole dline.Info: the seed's seven fields in its order, then the five policy values
ok "${SEED%\}},\"WPoStPeriodDeadlines\":36,\"WPoStProvingPeriod\":3456,\"WPoStChallengeWindow\":96,\"WPoStChallengeLookback\":20,\"FaultDeclarationCutoff\":20}" "${DL[@]}" --json
ok $'CurrentEpoch: 43710\nPeriodStart: 40830\nIndex: 30\nOpen: 43710\nClose: 43806\nChallenge: 43690\nFaultCutoff: 43690\nState: open' "${DL[@]}"
ok $'CurrentEpoch: 43709\nPeriodStart: 40830\nIndex: 30\nOpen: 43710\nClose: 43806\nChallenge: 43690\nFaultCutoff: 43690\nState: not yet open' util deadline --network testnet2020 --period-start 40830 --index 30 --epoch 43709
ok $'CurrentEpoch: 43806\nPeriodStart: 40830\nIndex: 30\nOpen: 43710\nClose: 43806\nChallenge: 43690\nFaultCutoff: 43690\nState: elapsed' util deadline --network testnet2020 --period-start 40830 --index 30 --epoch 43806
# the same policy spelled out as overrides of devnet (the default network)
ok "${SEED%\}},\"WPoStPeriodDeadlines\":36,\"WPoStProvingPeriod\":3456,\"WPoStChallengeWindow\":96,\"WPoStChallengeLookback\":20,\"FaultDeclarationCutoff\":20}" util deadline --proving-period 3456 --challenge-window 96 --deadlines 36 --challenge-lookback 20 --fault-cutoff 20 --period-start 40830 --index 30 --epoch 43710 --json
# the mainnet vector, and a negative period start (specs-actors: t01000 created at epoch 0 starts at -2222)
ok '{"CurrentEpoch":10000,"PeriodStart":8640,"Index":22,"Open":9960,"Close":10020,"Challenge":9940,"FaultCutoff":9890,"WPoStPeriodDeadlines":48,"WPoStProvingPeriod":2880,"WPoStChallengeWindow":60,"WPoStChallengeLookback":20,"FaultDeclarationCutoff":70}' util deadline --network mainnet --period-start 8640 --index 22 --epoch 10000 --json
ok '{"CurrentEpoch":0,"PeriodStart":-2222,"Index":37,"Open":-2,"Close":58,"Challenge":-22,"FaultCutoff":-72,"WPoStPeriodDeadlines":48,"WPoStProvingPeriod":2880,"WPoStChallengeWindow":60,"WPoStChallengeLookback":20,"FaultDeclarationCutoff":70}' util deadline --network mainnet --period-start -2222 --index 37 --epoch 0 --json
ok '{"CurrentEpoch":43710,"PeriodStart":40830,"Index":11,"Open":43998,"Close":44286,"Challenge":43968,"FaultCutoff":43948,"WPoStPeriodDeadlines":12,"WPoStProvingPeriod":3456,"WPoStChallengeWindow":288,"WPoStChallengeLookback":30,"FaultDeclarationCutoff":50}' util deadline --network testnet2020 --deadlines 12 --challenge-window 288 --challenge-lookback 30 --fault-cutoff 50 --period-start 40830 --index 11 --epoch 43710 --json
bad "--index 36 must be below --deadlines (36): deadlines are numbered 0 to 35" util deadline --network testnet2020 --period-start 40830 --index 36 --epoch 43710
bad "--index 12 must be below --deadlines (12)" util deadline --network testnet2020 --deadlines 12 --challenge-window 288 --period-start 40830 --index 12 --epoch 43710
bad "--index: \"-1\" is not an unsigned decimal number" util deadline --network testnet2020 --period-start 40830 --index -1 --epoch 43710
bad "--epoch -5 is negative" util deadline --network testnet2020 --period-start 40830 --index 30 --epoch -5
bad "--epoch: \"4x\" is not an unsigned decimal number" util deadline --network testnet2020 --period-start 40830 --index 30 --epoch 4x
bad "--epoch 4611686018427387904 is 2^62 or more" util deadline --network testnet2020 --period-start 40830 --index 30 --epoch 4611686018427387904
bad "--period-start: \"x\" is not a decimal epoch" util deadline --network testnet2020 --period-start x --index 30 --epoch 43710
bad "--period-start: \"-\" is not a decimal epoch" util deadline --network testnet2020 --period-start - --index 30 --epoch 43710
bad "--period-start -4611686018427387904 is outside (-2^62, 2^62)" util deadline --network testnet2020 --period-start -4611686018427387904 --index 30 --epoch 43710
bad "--period-start EPOCH is required" util deadline --network testnet2020 --index 30 --epoch 43710
bad "--index N is required" util deadline --network testnet2020 --period-start 40830 --epoch 43710
bad "--epoch EPOCH is required" util deadline --network testnet2020 --period-start 40830 --index 30
bad "--network: network \"calibnet\" is not one of devnet, testnet2020, mainnet" util deadline --network calibnet --period-start 40830 --index 30 --epoch 43710
bad "deadlines (36) x challenge-window (90) must equal proving-period (3456)" "${DL[@]}" --challenge-window 90
bad "deadlines (4611686018427387904) x challenge-window (4) must equal proving-period (3456)" "${DL[@]}" --deadlines 4611686018427387904 --challenge-window 4
bad "--proving-period 0 is outside [1, 2^63)" "${DL[@]}" --proving-period 0
bad "--proving-period 4611686018427387904 is 2^62 or more" "${DL[@]}" --proving-period 4611686018427387904
bad "challenge-lookback (3456) must be shorter than the proving period (3456)" "${DL[@]}" --challenge-lookback 3456
bad "--fault-cutoff: \"-1\" is not an unsigned decimal number" "${DL[@]}" --fault-cutoff -1
bad "flag --json takes no value" "${DL[@]}" --json=1
bad "unknown flag --offset" "${DL[@]}" --offset 2814

# ---- the SDR parent cache (filecoin-exact.json "sdr_parent_cache": 2KiB V1_1 is v28-sdr-parent-494d91dc...) ----
export FIL_PROOFS_PARENT_CACHE="$tmp/parents"
ok 840057702eea7652cf97e04306c30fe57174714d90de156a25eddd6075c25b97 util sdr-parents --sector-size 2KiB --digest
ok 840057702eea7652cf97e04306c30fe57174714d90de156a25eddd6075c25b97 util sdr-parents --sector-size 2048 --seal-proof V1_1 --digest
ok 3da49221e2ed55371b86d0bf3d6526fcf128af61bed904f966428db1b531750d util sdr-parents --sector-size 2KiB --seal-proof V1 --digest
ok "$tmp/parents/v28-sdr-parent-494d91dc80f2df5272c4b9e129bc7ade9405225993af9fe34e6542a39a47554b.cache" util sdr-parents --sector-size 2KiB
bad "--sector-size is required" util sdr-parents --digest
bad "--sector-size: " util sdr-parents --sector-size 3KiB
bad "--seal-proof: \"V2\" is not V1 or V1_1" util sdr-parents --sector-size 2KiB --seal-proof V2
: >"$tmp/not-a-dir"
FIL_PROOFS_PARENT_CACHE="$tmp/not-a-dir" bad "not-a-dir" util sdr-parents --sector-size 2KiB --digest
unset FIL_PROOFS_PARENT_CACHE

# ---- WindowPoSt vanilla proofs: Curio's real 32 GiB proof and its WindowPoStVerifyInfo (tests/proofs/data);
# a 2 KiB sector proven by our poster goes through this verb in tests/proofs/test_vproof.c ----
VPDIR=$(cd "$(dirname "$0")/../proofs/data" && pwd)
VPROOF=$VPDIR/curio-post-32gib.vproof
VPUB=$VPDIR/curio-post-32gib-public.json
VV=(util post verify-vanilla)
flip() { # flip IN OUT OFFSET: OUT is IN with bit 0 of the byte at OFFSET flipped
  cp "$1" "$2"
  local b
  b=$(od -An -tu1 -j "$3" -N1 "$1" | tr -d ' ')
  printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$2" bs=1 seek="$3" conv=notrunc status=none
}
ok valid "${VV[@]}" --proof "$VPROOF" --public "$VPUB"
flip "$VPROOF" "$tmp/leaf.vproof" $((56 + 2484 * 3 + 2452 + 2)) # challenge 3's leaf
bad "ERROR: sector 1: challenge 3 (leaf 548708700): path does not lead to comm_r_last" "${VV[@]}" --proof "$tmp/leaf.vproof" --public "$VPUB"
flip "$VPROOF" "$tmp/variant.vproof" 56
bad "ERROR: sector 1: vanilla proof: byte 56: inclusion_proofs[0].variant: 0 (Single), want 1 (Sub) for a 32GiB sector" "${VV[@]}" --proof "$tmp/variant.vproof" --public "$VPUB"
head -c 24010 "$VPROOF" >"$tmp/short.vproof"
bad "ERROR: sector 1: vanilla proof: byte 24000: inclusion_proofs[9].base_proof[6].hashes[4]: the proof ends after 10 of its 32 bytes" "${VV[@]}" --proof "$tmp/short.vproof" --public "$VPUB"
cat "$VPROOF" "$VPROOF" >"$tmp/two.vproof"
bad "ERROR: vanilla proof: byte 24960: 24960 bytes after the 1 sector proof expected" "${VV[@]}" --proof "$tmp/two.vproof" --public "$VPUB"
sed 's/"SectorNumber":1/"SectorNumber":2/' "$VPUB" >"$tmp/other-sector.json"
bad "ERROR: found sector 1 where sector 2 was expected" "${VV[@]}" --proof "$VPROOF" --public "$tmp/other-sector.json"
sed 's/"Randomness":"A/"Randomness":"B/' "$VPUB" >"$tmp/other-rand.json"
bad "ERROR: sector 1: challenge 0 (leaf " "${VV[@]}" --proof "$VPROOF" --public "$tmp/other-rand.json"
sed 's/"SealProof":8/"SealProof":3/' "$VPUB" >"$tmp/v1.json" # the V1 id of the same size
ok valid "${VV[@]}" --proof "$VPROOF" --public "$tmp/v1.json"
sed 's/"SealProof":8/"SealProof":7/' "$VPUB" >"$tmp/512m.json"
bad "ERROR: sector 1: vanilla proof: byte 56: inclusion_proofs[0].variant: 1 (Sub), want 0 (Single) for a 512MiB sector" "${VV[@]}" --proof "$VPROOF" --public "$tmp/512m.json"
echo '{"Randomness":"AAAA"}' >"$tmp/bad.json"
bad "--public $tmp/bad.json: WindowPoStVerifyInfo: Randomness: 3 bytes, want 32" "${VV[@]}" --proof "$VPROOF" --public "$tmp/bad.json"
bad "--proof FILE is required" "${VV[@]}" --public "$VPUB"
bad "--public FILE is required" "${VV[@]}" --proof "$VPROOF"
bad "could not read from path=\"$tmp/missing\"" "${VV[@]}" --proof "$tmp/missing" --public "$VPUB"

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# the 32-byte digest of a commitment CID, in hex
cid_digest() { local b=${1:1}; b=${b^^}; while ((${#b} % 8)); do b+="="; done; base32 -d <<<"$b" | tail -c 32 | xxd -p -c 64; }

# util poseidon: neptune's H(0, 1) and H(0..7) (tests/vectors/filecoin-exact.json)
Z=0000000000000000000000000000000000000000000000000000000000000000
el() { printf '%02x%062d' "$1" 0; }
ok ffe7029a363c202e9da6059d33a9fba661e1ef02d90f9e736ba5765ed7086539 util poseidon --arity 2 "$Z" "$(el 1)"
ok e6a5386df534992ad9aec49c9d2e684b777067114200011255dea5a31d619423 util poseidon --arity 8 $(for i in 0 1 2 3 4 5 6 7; do el $i; echo; done)
bad "util poseidon --arity 2 needs 2 inputs, got 1" util poseidon --arity 2 "$Z"
bad "--arity 3 is not served" util poseidon --arity 3 "$Z" "$Z" "$Z"
bad 'input 1 ("00") is not 32 bytes of hex' util poseidon --arity 2 00 "$Z"
bad "input 2 (ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff) is not a field element" util poseidon --arity 2 "$Z" ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff

# util seal: a CC 2 KiB sector has the published all-zero comm_d; V1 and V1_1 give different
# comm_r; --keep leaves Filecoin's files, p_aux = comm_c || comm_r_last, and comm_r is their
# Poseidon hash
SEAL=(util seal --sector-size 2KiB --prover 1000 --sector 1 --ticket "$Z")
out=$("$ST" "${SEAL[@]}" --json --keep "$tmp/seal")
v11=$(jq -r .comm_r <<<"$out")
[[ $(jq -r .comm_d <<<"$out") == baga6ea4seaqpy7usqklokfx2vxuynmupslkeutzexe2uqurdg5vhtebhxqmpqmy ]] || fail "util seal: CC comm_d: $out"
v1=$("$ST" "${SEAL[@]}" --seal-proof V1 --json | jq -r .comm_r)
[[ $v1 != "$v11" && $v1 == bagboea4b5abc* ]] || fail "util seal: V1 comm_r $v1, V1_1 $v11"
[[ $(xxd -p -c 64 "$tmp/seal/cache/s-t01000-1/p_aux") == "$(jq -r '.comm_c + .comm_r_last' <<<"$out")" ]] || fail "util seal: p_aux"
[[ $(stat -c %s "$tmp/seal/sealed/s-t01000-1") == 2048 ]] || fail "util seal: sealed file size"
for f in t_aux sc-02-data-tree-d.dat sc-02-data-tree-c.dat sc-02-data-tree-r-last.dat sc-02-data-layer-1.dat sc-02-data-layer-2.dat; do
  [[ -s $tmp/seal/cache/s-t01000-1/$f ]] || fail "util seal --keep: no cache file $f"
done
comm_r_hex=$("$ST" util poseidon --arity 2 "$(jq -r .comm_c <<<"$out")" "$(jq -r .comm_r_last <<<"$out")")
[[ $comm_r_hex == "$(cid_digest "$v11")" ]] || fail "util seal: comm_r $v11 is not Poseidon(comm_c, comm_r_last) = $comm_r_hex"
bad "util seal needs --ticket" util seal --sector-size 2KiB --prover 1000 --sector 1
bad "--ticket \"00\" is not 32 bytes of hex" util seal --sector-size 2KiB --prover 1000 --sector 1 --ticket 00
bad "--seal-proof \"V2\" is not V1 or V1_1" "${SEAL[@]}" --seal-proof V2
bad "could not read from path=\"$tmp/missing\"" "${SEAL[@]}" --data "$tmp/missing"

if ((failures)); then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all util checks passed"
