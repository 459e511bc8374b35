#!/usr/bin/env bash
# The seed's topology on one host (cluster.sh, 1 s epochs, six 6-epoch deadlines): three
# sealers and two posters of one miner, separate `spacetime-miner run` processes sharing the
# registry's database (SQLite, or the PostgreSQL of REGISTRY_DB / ST_TEST_PG), two of them on
# one repo as in the seed's `ps`. Checked:
# - two processes without --server-api for one miner are refused, and so is one beside a cluster;
# - 12 pledged sectors: 12 distinct numbers, all Proving, each pre-committed and prove-committed
#   exactly once on chain, each sector's files moved into place once, by several sealers;
#   `cluster` and the registry's /metrics show the processes and the work;
# - a proving period later: no faults, every SubmitWindowedPoSt on chain exited 0;
# - three posters: at most one block of the miner per epoch;
# - the poster holding a deadline killed with kill -9 after Challenge: another proves and
#   submits it before Close;
# - a sealer killed with kill -9 mid-seal: another finishes its sectors once the lease lapses;
# - a sealer stopped (SIGSTOP) past its lease, then continued: it does nothing more for the
#   sector another sealer took over;
# - doctor names the two killed processes, which never left the cluster.
set -u
source "$(dirname "$0")/cluster.sh" "$@"
[[ -n ${ST_TEST_PG:-} ]] && export REGISTRY_DB=$ST_TEST_PG/postgres
declare -A PID
show_logs() {
  for f in daemon.log server.log S1.log S2.log S3.log P1.log P2.log P3.log; do
    [[ -e $tmp/$f ]] && { echo "--- $f"; grep -v 'mining block failed' "$tmp/$f" | tail -"${1:-30}"; }
  done
}

cluster_up --proving-period 36 --challenge-window 6 --deadlines 6 --challenge-lookback 2 --fault-cutoff 3 \
  --precommit-challenge-delay 5
export SPACETIME_SERVER_TOKEN
SPACETIME_SERVER_TOKEN=$(cat "$tmp/srv/token")
printf 'Authorization: Bearer %s\n' "$SPACETIME_SERVER_TOKEN" >"$tmp/auth.hdr"
reg() { curl -s -XPOST -H @"$tmp/auth.hdr" "$api/v0/cluster/$1" -d "$2"; } # a cluster operation
for r in miner2 lone1 lone2; do mkdir -p "$tmp/$r" && cp "$tmp/miner/config.json" "$tmp/$r/"; done

# run NAME REPO MODE [FLAGS...]: `spacetime-miner run` logging to $tmp/NAME.log, with --server-api
# unless FLAGS say --alone
run() {
  local name=$1 repo=$2 mode=$3 server=(--server-api "$api")
  shift 3
  [[ ${1:-} == --alone ]] && { server=(); shift; }
  "$MINER" run --repo "$tmp/$repo" --node-repo "$tmp/node" --dist-path "$tmp/dist" "${server[@]}" --mode "$mode" \
    --api 0 --confidence 1 --log-file "$tmp/$name.log" "$@" 2>>"$tmp/$name.err" &
  PID[$name]=$!
  REPO[$name]=$repo
  pids+=("$!")
  miner_up "$tmp/$name.log" "${PID[$name]}" || die "$name did not start: $(tail -3 "$tmp/$name.err")"
}
declare -A REPO
# A CMD...: spacetime-miner CMD through the API of a process still alive (a repo's api file names
# the last process that started on it, which may be one this test killed)
A() {
  local n addr
  for n in S1 S2 S3 P1 P2 P3; do
    [[ -n ${PID[$n]:-} ]] && kill -0 "${PID[$n]}" 2>/dev/null || continue
    addr=$(grep -m1 $'\tthe miner API is on ' "$tmp/$n.log" | grep -o '/ip4/[^ ]*')
    MINER_API_INFO="$(cat "$tmp/${REPO[$n]}/token"):$addr" "$MINER" "$@" --repo "$tmp/${REPO[$n]}" --node-repo "$tmp/node"
    return
  done
}
name_of_pid() { for n in "${!PID[@]}"; do [[ ${PID[$n]} == "$1" ]] && echo "$n"; done; }
sectors() { reg sector_list '{"miner": 1000}' | jq -c .sectors; }
proving_n() { (($(sectors | jq '[.[] | select(.state == "Proving")] | length') == $1)); }
# every log line of the sealers about sector N (or all) with WHAT, counted per sector: "N COUNT" lines
per_sector() { grep -h $'\t'"$1"$'\t' "$tmp"/S*.log | cut -f5 | jq -r "select(${2:-true}) | .sector" | sort -n | uniq -c; }

# ---- one miner without a shared database: a second process is refused ----
run lone1 lone1 all --alone
out=$("$MINER" run --repo "$tmp/lone2" --node-repo "$tmp/node" --dist-path "$tmp/dist2" --api 0 2>&1) &&
  fail "a second process without --server-api started"
[[ $out == *"another 'spacetime-miner run' for t01000 runs on this host without a shared database, so a second one would reuse its sector numbers"* ]] ||
  fail "the second lone process: $out"
out=$("$MINER" run --repo "$tmp/lone2" --node-repo "$tmp/node" --dist-path "$tmp/dist2" --server-api "$api" --api 0 2>&1) &&
  fail "a cluster process beside a lone one started"
[[ $out == *"runs on this host without a shared database: stop it, or restart it with --server-api"* ]] ||
  fail "a cluster process beside a lone one: $out"
kill -TERM "${PID[lone1]}"
wait "${PID[lone1]}"

# ---- the cluster: S1, S2 and P1 on one repo, S3 and P2 on a copy ----
run S1 miner sealer --max-sealing 2
run S2 miner sealer --max-sealing 2
run S3 miner2 remote-sealer --max-sealing 2
run P1 miner poster
run P2 miner2 poster
out=$("$MINER" run --repo "$tmp/lone2" --node-repo "$tmp/node" --dist-path "$tmp/dist2" --api 0 2>&1) &&
  fail "a lone process beside the cluster started"
[[ $out == *"runs on this host with a shared database (a cluster): run this one with the same --server-api"* ]] ||
  fail "a lone process beside the cluster: $out"
nums=$(for _ in $(seq 12); do M sectors pledge --json | jq .SectorNumber; done | sort -n | tr '\n' ' ')
[[ $nums == "$(seq 12 | tr '\n' ' ')" ]] || fail "the pledged numbers: $nums"
until_ok 240 "12 sectors Proving" proving_n 12
echo "12 sectors Proving at height $(node ChainHead '[]' | jq .Height)"
for what in 'sector files moved into place' 'sector sealed'; do
  counts=$(per_sector "$what")
  [[ $(awk '$1 == 1' <<<"$counts" | wc -l) == 12 && $(wc -l <<<"$counts") == 12 ]] || fail "'$what' per sector: $counts"
done
for to in PreCommitWait CommitWait; do
  counts=$(per_sector 'sector state' ".to == \"$to\"")
  [[ $(awk '$1 == 1' <<<"$counts" | wc -l) == 12 ]] || fail "sectors that went to $to once: $counts"
done
# sealing shows its progress: each sector's phases in order, the last at 100% with nothing left
prog=$(grep -h $'\tsealing progress\t' "$tmp"/S*.log | cut -f5 | jq -c 'select(.percent == 100) | [.done, .left_s]' | sort -u)
[[ $prog == '["aux",0]' ]] || fail "the last sealing progress line of each sector: $prog"
full=$(grep -h $'\tsealing progress\t' "$tmp"/S*.log | cut -f5 | jq -r 'select(.percent == 100) | .sector' | sort -un | wc -l)
((full == 12)) || fail "$full sector(s) logged their sealing to 100%"
grep -h $'\tsealing progress\t' "$tmp"/S*.log | cut -f5 | jq -r .done | grep -qx 'layer 2' || fail "no layer in the sealing progress"
sealers=$(grep -h $'\tsector sealed\t' "$tmp"/S*.log | cut -f5 | jq .machine | sort -u | wc -l)
((sealers >= 2)) || fail "$sealers sealer(s) did the sealing"
echo "sealed by $sealers sealers"
view=$(M cluster)
for n in S1 S2 S3 P1 P2; do
  [[ $view == *"${PID[$n]}"* ]] || fail "cluster does not show $n (pid ${PID[$n]}): $view"
done
[[ $(M cluster --json | jq '[.machines[] | select(.alive == 1 and .stopped == null)] | length') == 5 ]] || fail "cluster --json: $(M cluster --json)"
[[ $(M sectors list | awk 'NR == 2 {print $1, $2}') == "1 Proving" ]] || fail "sectors list: $(M sectors list | head -3)"
metrics=$(curl -s "$api/metrics")
[[ $metrics == *'spacetime_registry_cluster_work{kind="sealing",state="Proving"} 12'* ]] || fail "registry metrics: $(grep cluster_work <<<"$metrics")"
[[ $metrics == *'spacetime_registry_cluster_work{kind="machines",state="alive"} 5'* ]] || fail "registry metrics: $(grep cluster_work <<<"$metrics")"

# ---- blocks: a third poster; at most one block of the miner per epoch ----
run P3 miner2 poster
from=$(node ChainHead '[]' | jq .Height)

# ---- a proving period: every deadline proven, no faults ----
sleep 40
[[ $(node StateMinerFaults '["t01000", []]') == '[0]' ]] || fail "faults after a period: $(node StateMinerFaults '["t01000", []]')"
posts=$(cat "$tmp"/P*.log | grep -c $'\twindow PoSt submitted\t')
((posts >= 6)) || fail "$posts window PoSt messages in a period"
grep -h 'failed on chain' "$tmp"/P*.log && fail "a poster's message failed on chain"
to=$(node ChainHead '[]' | jq .Height)
double=0
for h in $(seq "$from" "$to"); do
  n=$(node ChainGetTipSetByHeight "[$h, []]" | jq "select(.Height == $h) | [.Blocks[] | select(.Miner == \"t01000\")] | length")
  ((${n:-0} > 1)) && double=$((double + 1))
done
((double == 0)) || fail "$double epochs with two blocks of t01000"
heights=$(grep -h $'\tmined new block\t' "$tmp"/P*.log | cut -f5 | jq .height | sort | uniq -d)
[[ -z $heights ]] || fail "two posters mined at heights $heights"
echo "blocks from $from to $to: one per epoch at most; $(grep -h $'\tmined new block\t' "$tmp"/P*.log | cut -f5 | jq .machine | sort -u | wc -l) posters mined"

# ---- kill -9 of the poster holding a deadline, after its Challenge ----
# the victim: a poster that proved (after Challenge) and has not submitted yet (before Open)
vname=
for _ in $(seq 300); do
  for n in P1 P2 P3; do
    ran=$(grep -n $'\trunning windowPost\t' "$tmp/$n.log" | tail -1 | cut -d: -f1)
    sent=$(grep -n $'\twindow PoSt submitted\t' "$tmp/$n.log" | tail -1 | cut -d: -f1)
    if ((${ran:-0} > ${sent:-0})); then
      vname=$n
      victim=${PID[$n]}
      kill -9 "$victim"
      break 2
    fi
  done
  sleep 0.1
done
[[ -n $vname ]] || die "no poster was caught between proving and submitting"
wait "$victim" 2>/dev/null
# the victim may have sent its message as it was killed: then that message proves the deadline
victim_cid=$(tail -n +"$ran" "$tmp/$vname.log" 2>/dev/null | grep $'\twindow PoSt submitted\t' | tail -1 | cut -f5 | jq -r .cid)
[[ -n $victim_cid ]] && echo "(it submitted as it was killed: $victim_cid)"
line=$(grep $'\trunning windowPost\t' "$tmp/$vname.log" | tail -1 | cut -f5)
d=$(jq '.deadline.Index | tonumber' <<<"$line")
ps=$(jq '.deadline.PeriodStart' <<<"$line")
close=$(jq '.deadline.Close' <<<"$line")
echo "killed $vname (pid $victim) holding deadline $d (period start $ps), which closes at $close; head $(node ChainHead '[]' | jq .Height)"
others=()
for n in P1 P2 P3; do [[ $n != "$vname" ]] && others+=("$tmp/$n.log"); done
taken() { # another poster proved the instance, or waits for the message the victim sent, or that message landed
  (($(grep -h $'\trunning windowPost\t' "${others[@]}" | cut -f5 |
    jq -s "map(select(.deadline.PeriodStart == $ps and (.deadline.Index | tonumber) == $d)) | length") > 0)) ||
    grep -q "deadline $d partition [0-9]*: waiting for the message" "${others[@]}" ||
    { [[ -n $victim_cid ]] && [[ $(node StateSearchMsg "[[], {\"/\":\"$victim_cid\"}, -1, true]" | jq .Receipt.ExitCode) == 0 ]]; }
}
until_ok 20 "deadline $d proven by another poster" taken
closed() { (($(node ChainHead '[]' | jq .Height) > close)); }
until_ok 20 "deadline $d closed" closed
[[ $(node StateMinerFaults '["t01000", []]') == '[0]' ]] || fail "faults after the poster's kill: $(node StateMinerFaults '["t01000", []]')"

# ---- kill -9 of a sealer mid-seal ----
for _ in 1 2 3; do A sectors pledge >/dev/null || die "sectors pledge"; done
victim=
for _ in $(seq 300); do
  holder=$(sectors | jq -r '[.[] | select(.number > 12 and .owner != null and (.state | IN("WaitSeed", "PreCommitWait", "PreCommitting")))][0].owner // empty')
  [[ -n $holder ]] && victim=$(reg machines '{"miner": 1000}' | jq -r ".machines[] | select(.id == $holder) | .pid") && break
  sleep 0.1
done
[[ -n $victim ]] || die "no sealer was caught mid-seal"
vname=$(name_of_pid "$victim")
echo "killed $vname (pid $victim) mid-seal: $(sectors | jq -c "[.[] | select(.owner == $holder and .state != \"Proving\") | {number, state}]")"
kill -9 "$victim"
wait "$victim" 2>/dev/null
until_ok 120 "15 sectors Proving" proving_n 15
finished_by=$(sectors | jq -c "[.[] | select(.number > 12) | .owner] | unique")
[[ $finished_by != *"$holder"* ]] || fail "the killed sealer still holds: $finished_by"

# ---- a sealer stopped past its lease, then continued ----
for _ in 1 2; do A sectors pledge >/dev/null || die "sectors pledge"; done
stopped=
for _ in $(seq 300); do
  row=$(sectors | jq -c '[.[] | select(.number > 15 and .owner != null and (.state | IN("WaitSeed", "PreCommitWait")))][0] // empty')
  if [[ -n $row ]]; then
    stopped=$(reg machines '{"miner": 1000}' | jq -r ".machines[] | select(.id == $(jq .owner <<<"$row")) | .pid")
    [[ -n $stopped ]] && break
  fi
  sleep 0.1
done
[[ -n $stopped ]] || die "no sealer was caught holding a sector"
sname=$(name_of_pid "$stopped")
number=$(jq .number <<<"$row")
kill -STOP "$stopped"
mark=$(wc -l <"$tmp/$sname.log")
moved() { [[ $(sectors | jq ".[] | select(.number == $number) | .owner") != "$(jq .owner <<<"$row")" ]]; }
until_ok 30 "sector $number taken over from the stopped $sname" moved
kill -CONT "$stopped"
until_ok 120 "17 sectors Proving" proving_n 17
after=$(tail -n +"$((mark + 1))" "$tmp/$sname.log" | grep -E $'\t(sector state|sector sealed|sector files moved into place)\t' |
  cut -f5 | jq -c "select(.sector == $number)")
[[ -z $after ]] || fail "$sname, continued, still worked on sector $number: $after"
echo "stopped $sname (pid $stopped) holding sector $number; continued, it left the sector alone"

# ---- doctor: the two killed processes never left ----
finding=$(A doctor --json | jq -c '.findings[] | select(.check == "cluster")')
[[ $(jq -r .status <<<"$finding") == warn && $(jq -r .summary <<<"$finding") == "2 process(es) of the cluster stopped answering (4 live)" ]] ||
  fail "doctor's cluster finding: $finding"

# ---- all of it, on chain ----
for to in PreCommitWait CommitWait; do
  counts=$(per_sector 'sector state' ".to == \"$to\"")
  [[ $(awk '$1 == 1' <<<"$counts" | wc -l) == 17 ]] || fail "sectors that went to $to once: $counts"
done
read -r pre commit posts failed <<<"$(miner_msgs)"
echo "on chain: $pre PreCommitSector, $commit ProveCommitSector, $posts SubmitWindowedPoSt, $failed failed"
[[ "$pre $commit $failed" == "17 17 0" ]] || fail "the chain holds $pre PreCommitSector, $commit ProveCommitSector, $failed failed"
[[ $(node StateMinerSectorCount '["t01000", []]' | jq .Live) == 17 ]] || fail "sectors on chain: $(node StateMinerSectorCount '["t01000", []]')"
finish
