#!/usr/bin/env bash
# The explorer page the daemon serves at /, in Debian's Chromium (tests/explorer/explorer.mjs,
# playwright-core from npm), against the whole cluster (cluster.sh) once a SubmitWindowedPoSt has
# landed: heights increase; the home page's network at a glance matches the JSON-RPC (height,
# miners, total power) and lists the latest messages with their method; the post's block shows
# 提交时空证明, its message the decoded deadline, fee and receiver; the miner page its power, and
# its messages filtered to SubmitWindowedPoSt show the post and nothing else; both languages;
# bad input gives a clear message. Also checked with
# curl: the page and its script are served without a token, and an unknown path is a 404.
# Screenshots go to <build>/test-artifacts/.
set -u
source "$(dirname "$0")/cluster.sh" "$@"
here=$(cd "$(dirname "$0")/.." && pwd)
[[ -x /usr/bin/chromium ]] || die "no /usr/bin/chromium: run scripts/install-deps.sh"
[[ -d $here/explorer/node_modules/playwright-core ]] || die "no playwright-core in tests/explorer/node_modules: run scripts/install-deps.sh"

cluster_up --proving-period 48 --challenge-window 8 --deadlines 6 --challenge-lookback 2 --fault-cutoff 3 --precommit-challenge-delay 5
start_miner --confidence 1
M sectors pledge >/dev/null && M sectors pledge >/dev/null || die "sectors pledge"
posted() { grep -q $'\tINFO\tstorageminer\twindow PoSt submitted\t' "$tmp/poster.log"; }
until_ok 150 "a SubmitWindowedPoSt" posted
line=$(grep -m1 $'\twindow PoSt submitted\t' "$tmp/poster.log")
msg=$(sed 's/.*"cid": "\([a-z0-9]*\)".*/\1/' <<<"$line")
deadline=$(sed 's/.*"deadline": \([0-9]*\),.*/\1/' <<<"$line")
landed() { [[ $(node StateSearchMsg "[null, {\"/\": \"$msg\"}, -1, true]") != null ]]; }
until_ok 30 "the post on chain" landed
ts=$(node StateSearchMsg "[null, {\"/\": \"$msg\"}, -1, true]" | jq -c .TipSet)
block=""
for b in $(jq -r '.[]["/"]' <<<"$ts"); do
  node ChainGetBlockMessages "[{\"/\": \"$b\"}]" | jq -r '.Cids[]["/"]' | grep -qx "$msg" && block=$b && break
done
[[ -n $block ]] || die "no block of $ts holds $msg"
# a CID of the right form that no block or message has: one character of the block's changed
unknown=${block:0:20}$([[ ${block:20:1} == a ]] && echo b || echo a)${block:21}

port=$(cut -d/ -f5 "$tmp/node/api")
url=http://127.0.0.1:$port/
[[ $(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$url") == "200 text/html; charset=utf-8" ]] || fail "GET / without a token"
[[ $(curl -s -o /dev/null -w '%{http_code}' "${url}explorer.js") == 200 ]] || fail "GET /explorer.js"
[[ $(curl -s -o /dev/null -w '%{http_code}' "${url}nope") == 404 ]] || fail "GET /nope is not a 404"
curl -s "$url" | grep -Eq 'src="https?:|href="https?:' && fail "the page loads something from outside"

artifacts=$(cd "$BIN" && pwd)/test-artifacts
mkdir -p "$artifacts"
(cd "$here/explorer" && timeout 240 node explorer.mjs "$url" "$block" "$msg" "$deadline" t01000 "$unknown" "$artifacts") || fail "the browser checks (screenshots in $artifacts)"
ls "$artifacts"/explorer-block.png >/dev/null 2>&1 || fail "no screenshot saved"
finish
