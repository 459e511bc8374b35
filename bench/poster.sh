#!/usr/bin/env bash
# bench/poster.sh: how long the poster takes from a deadline's Challenge to its
# SubmitWindowedPoSt, against the vanilla proof alone, on the whole cluster.
#
#   bench/poster.sh PATH/TO/spacetime      (SECTOR_SIZE=8MiB SECTORS=8 PERIODS=1)
#
# It starts the daemon (1 s epochs, a 48-epoch period of 12 deadlines, Challenge 2 epochs before
# Open), the registry with one storage node and the miner (tests/cmd/cluster.sh), with
# --confidence 0 so the poster proves at Challenge and submits at Open. It pledges SECTORS
# sectors of SECTOR_SIZE, waits until they are Proving, lets PERIODS proving periods pass, and
# reads each "window PoSt submitted" line of the poster's log. Per deadline it prints:
#   vanilla   computing the proofs (st_window_post_prove over the partitions' sectors)
#   work      the poster's whole work: chain reads, locating every sector through the registry,
#             the proofs, encoding (prove), then the randomness re-check and MpoolPushMessage
#             (submit)
#   latency   wall time from the start of the Challenge epoch to the message being in the pool
#   gate      the protocol's wait in it: a post may only be sent once the deadline is Open
# and the ratios work/vanilla (what the poster adds to the proof) and
# (latency - gate)/vanilla (what the whole pipeline adds, epochs and polling included).
#
# POSTERS=2 then starts a second poster process on the same repo (a cluster over the registry's
# database), lets PERIODS more periods pass, and compares each deadline's latency (its last
# partition's submission) with one poster and with two: "latency, 2 posters / 1 poster".
set -u
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../tests/cmd/cluster.sh" "${1:?usage: bench/poster.sh PATH/TO/spacetime}"
size=${SECTOR_SIZE:-8MiB} sectors=${SECTORS:-8} periods=${PERIODS:-1} posters=${POSTERS:-1}
bytes=$(numfmt --from=iec-i "${size%B}")
MINER_INIT_FLAGS="--sector-size $size --funds 100"
cluster_up --proving-period 48 --challenge-window 4 --challenge-lookback 2 --fault-cutoff 3 --precommit-challenge-delay 5 \
  --min-sector-size "$bytes" --max-sector-size "$bytes"
start_miner --confidence 0
for _ in $(seq "$sectors"); do M sectors pledge >/dev/null || die "sectors pledge"; done
all_proving() { (($(proving_count) == sectors)); }
until_ok $((sectors * 120)) "$sectors sectors Proving" all_proving
echo "poster.sh: $sectors sectors of $size Proving at height $(node ChainHead '[]' | jq .Height); running $periods proving period(s)"
from=$(wc -l <"$tmp/poster.log")
sleep $((periods * 48 + 6))
params=$(node StateGetNetworkParams '[]')
genesis=$(jq .GenesisTimestamp <<<"$params") delay=$(jq .BlockDelaySecs <<<"$params")

printf '%-9s%-11s%-8s%12s%12s%12s%12s%10s%14s%16s\n' deadline partitions sectors "vanilla ms" "prove ms" "submit ms" "latency s" "gate s" "work/vanilla" "(lat-gate)/van"
tail -n +"$((from + 1))" "$tmp/poster.log" | awk -F'\t' '$4 == "running windowPost" || $4 == "generating windowPost" || $4 == "window PoSt submitted" {print $1 "\t" $4 "\t" $5}' |
  while IFS=$'\t' read -r ts what json; do
    case $what in
    "running windowPost") dl=$(jq -c .deadline <<<"$json") ;;
    "generating windowPost") n=$(jq .sectors <<<"$json") ;;
    "window PoSt submitted")
      t=$(date -d "${ts:0:23}${ts:23:3}:${ts:26:2}" +%s.%N)
      jq -r --argjson dl "$dl" --argjson g "$genesis" --argjson d "$delay" --argjson t "$t" --argjson n "$n" '
        (.prove + .submit) as $work | ($t - ($g + $dl.Challenge * $d)) as $lat | (($dl.Open - $dl.Challenge) * $d) as $gate |
        [.deadline, .partitions, $n, (.vanilla * 1000), (.prove * 1000), (.submit * 1000), $lat, $gate, ($work / .vanilla), (($lat - $gate) / .vanilla)] |
        "\(.[0])\t\(.[1])\t\(.[2])\t\(.[3])\t\(.[4])\t\(.[5])\t\(.[6])\t\(.[7])\t\(.[8])\t\(.[9])"' <<<"$json" |
        awk -F'\t' '{printf "%-9s%-11s%-8s%12.3f%12.3f%12.3f%12.3f%10.0f%13.1fx%15.1fx\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10}'
      ;;
    esac
  done
grep -q $'\tERROR\t' "$tmp/poster.log" && echo "poster.sh: the poster logged errors: $(grep $'\tERROR\t' "$tmp/poster.log" | head -3)"

# latency FILE:FROM...: each deadline's latency from Challenge to its last submission, over the
# logs' lines after FROM: "challenge latency" lines
latency() {
  local spec f n
  for spec in "$@"; do
    f=${spec%:*} n=${spec##*:}
    tail -n +"$((n + 1))" "$f" | awk -F'\t' '$4 == "running windowPost" || $4 == "window PoSt submitted" {print $1 "\t" $4 "\t" $5}' |
      while IFS=$'\t' read -r ts what json; do
        if [[ $what == "running windowPost" ]]; then
          ch=$(jq .deadline.Challenge <<<"$json")
        else
          t=$(date -d "${ts:0:23}${ts:23:3}:${ts:26:2}" +%s.%N)
          awk -v t="$t" -v g="$genesis" -v c="$ch" -v d="$delay" 'BEGIN {printf "%d %.3f\n", c, t - (g + c * d)}'
        fi
      done
  done | awk '{ if (!($1 in m) || $2 > m[$1]) m[$1] = $2 } END { for (c in m) { s += m[c]; n++ } if (n) printf "%d %.3f\n", n, s / n }'
}
read -r n1 l1 <<<"$(latency "$tmp/poster.log:$from")"
# the means per message of the poster's work (prove + submit) and of the vanilla proof in it, in ms
read -r work vanilla <<<"$(tail -n +"$((from + 1))" "$tmp/poster.log" | awk -F'\t' '$4 == "window PoSt submitted" {print $5}' |
  jq -rs 'if length > 0 then [(map(.prove + .submit) | add / length * 1000), (map(.vanilla) | add / length * 1000)] else [0, 0] end | @tsv')"
printf 'poster.sh summary: deadlines %d latency %.3f s work %.3f ms vanilla %.3f ms\n' "${n1:-0}" "${l1:-0}" "$work" "$vanilla"
if ((posters == 2)); then
  from1=$(wc -l <"$tmp/poster.log")
  touch "$tmp/poster2.log"
  SPACETIME_SERVER_TOKEN=$(cat "$tmp/srv/token") "$MINER" run --repo "$tmp/miner" --node-repo "$tmp/node" --mode poster \
    --dist-path "$tmp/dist" --server-api "$api" --api 0 --confidence 0 --log-file "$tmp/poster2.log" 2>>"$tmp/miner2.log" &
  p2=$!
  pids+=("$p2")
  sleep $((periods * 48 + 6))
  read -r n2 l2 <<<"$(latency "$tmp/poster.log:$from1" "$tmp/poster2.log:0")"
  split=$(grep -c $'\twindow PoSt submitted\t' "$tmp/poster2.log")
  echo "latency from Challenge to a deadline's last submission: 1 poster ${l1}s over $n1 deadlines, 2 posters ${l2}s over $n2 deadlines ($split of the messages from the second)"
  awk -v a="$l2" -v b="$l1" 'BEGIN {printf "latency, 2 posters / 1 poster = %.2f\n", a / b}'
  kill -TERM "$p2"
  wait "$p2"
fi
kill -TERM "$mpid"
wait "$mpid"
