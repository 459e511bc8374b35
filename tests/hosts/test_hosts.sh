#!/usr/bin/env bash
# The seed's cluster across hosts (hosts.sh): every process in its own host's network namespace,
# the sectors on two storage hosts that every miner host mounts over sshfs at /mnt/nfs/<ip>.
#
#   server    10.10.19.17  spacetime daemon, PostgreSQL, spacetime-server (registry A)
#   server2   10.10.19.18  spacetime-server (registry B), over the same PostgreSQL
#   storage1  10.10.4.23   a 256 MiB disk exported over sshd (sftp)
#   storage2  10.10.4.24   the same
#   sealer1/2 10.10.5.1-2  spacetime-miner run --mode=sealer --groups 1
#   poster1/2 10.10.6.1-2  spacetime-miner run --mode=poster
# Every miner process has --server-api=http://10.10.19.17:3456,http://10.10.19.18:3456 and
# --dist-path=/mnt (a tmpfs of its own host), as the seed runs them.
#
#   tests/hosts/test_hosts.sh PATH/TO/spacetime [FAULT...]
# runs the faults named (default: all, in this order), each reporting its times in epochs
# ("fault <name>: ..." lines, which docs/cluster.md's table quotes):
#   storage   storage1's link goes down at the Challenge of a deadline holding its sectors
#   poster    the link of the poster proving a deadline goes down after its Challenge
#   sealer    a sealer host goes down (every process killed, link cut) while it holds a sector
#   postgres  PostgreSQL stops for 3 s and starts again while sectors are pledged and sealed
#   registry  registry A is killed with kill -9; everything goes on through B
set -u
BIN=$(cd "$(dirname "${1:?usage: $0 PATH/TO/spacetime [FAULT...]}")" && pwd)
shift
FAULTS=${*:-storage poster sealer postgres registry}
for f in $FAULTS; do
  [[ " storage poster sealer postgres registry " == *" $f "* ]] ||
    { echo "FAIL: no fault \"$f\" (storage, poster, sealer, postgres, registry)"; exit 2; }
done
ST=$BIN/spacetime SRV=$BIN/spacetime-server MINER=$BIN/spacetime-miner
source "$(dirname "$0")/hosts.sh"
hosts_init
tmp=$HOSTS_TMP
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
show_logs() {
  for f in daemon srv1 srv2 sealer1 sealer2 poster1 poster2; do
    [[ -e $tmp/$f.log ]] && { echo "--- $f"; grep -v 'mining block failed' "$tmp/$f.log" | tail -"${1:-25}"; }
  done
}
die() {
  echo "FAIL: $*"
  show_logs
  exit 1
}
source "$(dirname "$0")/../cmd/wait.sh"

SERVER=10.10.19.17 SERVER2=10.10.19.18 ST1=10.10.4.23 ST2=10.10.4.24
REG_A=http://$SERVER:3456 REG_B=http://$SERVER2:3456
REG=$REG_A,$REG_B
host_add server $SERVER
host_add server2 $SERVER2
host_add storage1 $ST1
host_add storage2 $ST2
host_add sealer1 10.10.5.1
host_add sealer2 10.10.5.2
host_add poster1 10.10.6.1
host_add poster2 10.10.6.2
MINER_HOSTS=(sealer1 sealer2 poster1 poster2)
storage_up storage1 256M
storage_up storage2 256M
for h in "${MINER_HOSTS[@]}"; do
  on "$h" mount -t tmpfs tmpfs /mnt
  storage_mount "$h" storage1 /mnt/nfs/$ST1
  storage_mount "$h" storage2 /mnt/nfs/$ST2
done
pg_up server

# ---- the chain: keys, then a genesis of 1 s epochs and six 10-epoch deadlines ----
NODE_TOKEN=
node() { # node METHOD PARAMS : the daemon's result, asked from the server host
  printf 'Authorization: Bearer %s\n' "$NODE_TOKEN" | on server curl -s -m 20 -XPOST -H @- "http://$SERVER:1234/rpc/v1" \
    -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.$1\",\"params\":$2}" | jq -c .result
}
height() { node ChainHead '[]' | jq .Height; }
start_daemon() {
  rm -f "$tmp/node/api"
  spawn server "$tmp/daemon.log" "$ST" daemon --repo "$tmp/node" --api-host "$SERVER" --api 1234 "$@"
  dpid=$SPAWNED
  for _ in $(seq 100); do [[ -s $tmp/node/api ]] && break; sleep 0.1; done
  [[ -s $tmp/node/api ]] || die "the daemon did not start"
  NODE_TOKEN=$(cat "$tmp/node/token")
}
"$ST" genesis new --out "$tmp/g0.json" >/dev/null || die "genesis new"
start_daemon --genesis "$tmp/g0.json"
O=$(node WalletNew '["secp256k1"]' | tr -d '"')
P=$(node WalletNew '["secp256k1"]' | tr -d '"')
kill -TERM "$dpid"
gone "$dpid" || die "the daemon did not stop"
rm -rf "$tmp/node/chain" "$tmp/node/genesis.json"
W=10 PERIOD=60 # six deadlines of 10 epochs
"$ST" genesis new --out "$tmp/g.json" --account "$O=1000" --account "$P=1000" --proving-period $PERIOD \
  --challenge-window $W --deadlines 6 --challenge-lookback 2 --fault-cutoff 5 --precommit-challenge-delay 5 >/dev/null ||
  die "genesis new"
start_daemon --genesis "$tmp/g.json" --producer "$P"
export FULLNODE_API_INFO=$NODE_TOKEN:/ip4/$SERVER/tcp/1234/http

# ---- two registry instances over one PostgreSQL, and the two storage nodes ----
start_registry() { # start_registry HOST NAME ADDR
  spawn "$1" "$tmp/$2.log" "$SRV" run --listen "$3:3456" --repo "$tmp/$2" --db "$PG_URL"
  REG_PID[$2]=$SPAWNED
  for _ in $(seq 100); do [[ -s $tmp/$2/api ]] && return 0; sleep 0.1; done
  die "registry $2 did not start"
}
declare -A REG_PID
start_registry server srv1 $SERVER
mkdir -p "$tmp/srv2" && install -m 600 "$tmp/srv1/token" "$tmp/srv2/token" # one token for both instances
start_registry server2 srv2 $SERVER2
TOKEN=$(cat "$tmp/srv1/token")
export SPACETIME_SERVER_TOKEN=$TOKEN # every process gets the token from its environment, never its command line
R() { on server "$SRV" "$@" --server-api "$REG"; }
reg() { # reg OP PARAMS : a cluster operation, through whichever instance answers
  on server sh -c 'for u in "$0" "$3"; do
    printf "Authorization: Bearer %s\n" "$SPACETIME_SERVER_TOKEN" | curl -sf -m 10 -XPOST -H @- "$u/v0/cluster/$1" -d "$2" && break
  done' "$REG_A" "$1" "$2" "$REG_B"
}
R storage-nodes add --host $ST1 --type nfs --group 1 >/dev/null || die "storage-nodes add $ST1"
R storage-nodes add --host $ST2 --type nfs --group 1 >/dev/null || die "storage-nodes add $ST2"
rows=$(R storage-nodes list | awk -F'\t' 'NR > 1 {print $1, $2, $3, $4, $5}')
[[ $rows == "1 $ST1 1 $ST1 nfs"$'\n'"2 $ST2 1 $ST2 nfs" ]] || fail "storage-nodes list, the seed's row shape: $rows"

# ---- the miner, made once on the server host; each miner host gets a copy of its repo ----
out=$(on server "$MINER" init --owner "$O" --repo "$tmp/server/miner" 2>&1) || die "init: $out"
for h in "${MINER_HOSTS[@]}"; do mkdir -p "$tmp/$h/miner" && cp "$tmp/server/miner/config.json" "$tmp/$h/miner/"; done
declare -A MPID
run() { # run HOST MODE [FLAGS...] : spacetime-miner run on HOST, logging to $tmp/HOST.log
  local h=$1 mode=$2
  shift 2
  spawn "$h" "$tmp/$h.err" "$MINER" run --mode="$mode" --server-api="$REG" --dist-path=/mnt --nosync \
    --repo "$tmp/$h/miner" --api 0 --confidence 1 --log-file "$tmp/$h.log" "$@"
  MPID[$h]=$SPAWNED
  miner_up "$tmp/$h.log" "$SPAWNED" || die "$h did not start: $(tail -3 "$tmp/$h.err")"
}
M() { local h=$1; shift; on "$h" "$MINER" "$@" --repo "$tmp/$h/miner"; } # spacetime-miner on HOST, through its API
run sealer1 sealer --groups 1 --max-sealing 4
run sealer2 sealer --groups 1 --max-sealing 4
run poster1 poster --sector-timeout 2000
run poster2 poster --sector-timeout 2000

sectors() { reg sector_list '{"miner": 1000}' | jq -c .sectors; }
proving_n() { (($(sectors | jq '[.[] | select(.state == "Proving")] | length') >= $1)); }
pledge() { # pledge HOST N : N sectors; prints their numbers
  for _ in $(seq "$2"); do M "$1" sectors pledge --json | jq .SectorNumber; done
}
node_of() { R sectors find 1000 "$1" --json | jq -r "[.[] | select(.primary)][0].storage_node.host"; }
pledge sealer1 4 >/dev/null
pledge sealer2 4 >/dev/null
until_ok 240 "8 sectors Proving" proving_n 8
echo "8 sectors Proving at height $(height)"
declare -A ON
for n in $(seq 8); do ON[$n]=$(node_of "$n"); done
on1=$(for n in $(seq 8); do [[ ${ON[$n]} == "$ST1" ]] && echo "$n"; done | tr '\n' ' ')
echo "on storage1: ${on1:-none}; on storage2: $(for n in $(seq 8); do [[ ${ON[$n]} == "$ST2" ]] && echo "$n"; done | tr '\n' ' ')"
[[ -n $on1 && $(wc -w <<<"$on1") -lt 8 ]] || die "the sectors are not on both storage hosts"
sealed_by=$(grep -h $'\tsector sealed\t' "$tmp"/sealer*.log | cut -f5 | jq .machine | sort -u | wc -l)
((sealed_by == 2)) || fail "sealed by $sealed_by sealer(s), not both"

# the chain's clock: the epoch of now, or of a log line's timestamp (heights skip null rounds)
params=$(node StateGetNetworkParams '[]')
GENESIS=$(jq .GenesisTimestamp <<<"$params") DELAY=$(jq .BlockDelaySecs <<<"$params")
epoch() { echo $((($(date +%s%N) / 1000000 - GENESIS * 1000) / (DELAY * 1000))); }
epoch_at() { # epoch_at LOGLINE
  local ts=${1:0:28}
  echo $((($(date -d "${ts:0:23}${ts:23:3}:${ts:26:2}" +%s%N) / 1000000 - GENESIS * 1000) / (DELAY * 1000)))
}
BITS='def bits: . as $r | reduce range(0; length) as $i ({pos: 0, out: []};
  if $i % 2 == 1 then .out += [range(.pos; .pos + $r[$i])] else . end | .pos += $r[$i]) | .out[];'
dl_sectors() { # dl_sectors D : the sector numbers of deadline D, one per line
  node StateMinerPartitions "[\"t01000\", $1, []]" | jq "$BITS"' (. // [])[].AllSectors | bits'
}
faulty() { node StateMinerFaults '["t01000", []]' | jq "$BITS"' bits'; } # the faulty sectors, one per line
faults() { node StateMinerFaults '["t01000", []]' | jq '. as $r | reduce range(0; length) as $i (0; if $i % 2 == 1 then . + $r[$i] else . end)'; }
no_faults() { (($(faults) == 0)); }
landed() { # landed CID : the height its message landed at, once it exited 0
  local r
  r=$(node StateSearchMsg "[[], {\"/\":\"$1\"}, -1, true]")
  [[ $(jq .Receipt.ExitCode <<<"$r") == 0 ]] && jq .Height <<<"$r"
}
since() { tail -n +"$(($2 + 1))" "$tmp/$1.log"; } # since NAME MARK : NAME's log lines after MARK
posters_since() { since poster1 "${MARK[poster1]}"; since poster2 "${MARK[poster2]}"; } # both, after marks
marks() { for n in poster1 poster2 sealer1 sealer2; do MARK[$n]=$(wc -l <"$tmp/$n.log"); done; }
declare -A MARK
report() { echo "fault $1: $2"; printf '| %s | %s |\n' "$1" "$2" >>"$tmp/report"; }

# ---- storage: storage1's link goes down at the Challenge of a deadline holding its sectors ----
fault_storage() {
  local d= dl ps idx now open ch close down line skip_e cid at decl decl_e decl_d up want=0 k a b
  # a deadline with sectors on both storage hosts: storage1's are skipped, storage2's proven
  for k in 0 1 2 3 4 5; do
    a=0 b=0
    for n in $(dl_sectors "$k"); do [[ ${ON[$n]} == "$ST1" ]] && a=$((a + 1)) || b=$((b + 1)); done
    ((a > 0 && b > 0)) && { d=$k; break; }
  done
  [[ -n $d ]] || die "no deadline holds sectors of both storage hosts: $(for k in 0 1 2 3 4 5; do echo "$k: $(dl_sectors $k | tr '\n' ' ')"; done)"
  dl=$(node StateMinerProvingDeadline '["t01000", []]')
  ps=$(jq .PeriodStart <<<"$dl") idx=$(jq .Index <<<"$dl") now=$(epoch)
  open=$((ps + d * W))
  ((d < idx || open - 2 - now < 3)) && open=$((open + PERIOD))
  ch=$((open - 2)) close=$((open + W))
  echo "storage: deadline $d holds sectors $(dl_sectors "$d" | tr '\n' ' ')(storage1: $a); its Challenge at $ch, Close at $close"
  until_ok 80 "the Challenge of deadline $d" eval '(($(epoch) >= ch - 1))'
  marks
  link_down storage1
  down=$(epoch)
  posted() { posters_since | grep $'\twindow PoSt submitted\t' | grep -q "\"deadline\": $d,"; }
  until_ok 40 "deadline $d proven while storage1 is down" posted
  line=$(posters_since | grep $'\trunning windowPost\t' |
    grep "\"Index\":$d," | head -1)
  [[ $(cut -f5 <<<"$line" | jq .skipped) -ge 1 ]] || fail "deadline $d's proof skipped nothing: $line"
  skip_e=$(epoch_at "$line")
  cid=$(posters_since | grep $'\twindow PoSt submitted\t' |
    grep "\"deadline\": $d," | head -1 | cut -f5 | jq -r .cid)
  until_ok 20 "deadline $d's SubmitWindowedPoSt on chain" landed "$cid"
  at=$(landed "$cid")
  ((at <= close)) || fail "deadline $d's SubmitWindowedPoSt landed at $at, after its Close $close"
  posters_since | grep 'when running wdpost' | grep -v "/mnt/nfs/$ST1/" &&
    fail "a sector not on storage1 was skipped"
  # the other deadlines holding storage1's sectors: declared faulty, each landing before its FaultCutoff
  for _ in $(seq 30); do
    decl=$(posters_since | grep $'\tdeclare faults Message CID\t' | head -1)
    [[ -n $decl ]] && break
    sleep 1
  done
  if [[ -n $decl ]]; then
    decl_e=$(epoch_at "$decl") decl_d=$(cut -f5 <<<"$decl" | jq .deadline)
    until_ok 20 "DeclareFaults on chain, exit 0" landed "$(cut -f5 <<<"$decl" | jq -r .cid)"
  fi
  for n in $(seq 8); do [[ ${ON[$n]} == "$ST1" ]] && want=$((want + 1)); done
  until_ok 40 "storage1's $want sectors faulty" eval '(($(faults) == want))'
  link_up storage1
  up=$(epoch)
  # each sector recovered by the Close of its own deadline's second instance after the link is back
  declare -A REC
  local f left
  for _ in $(seq 150); do
    f=$(faulty | tr '\n' ' ') left=0
    for n in $(seq 8); do
      [[ ${ON[$n]} == "$ST1" && -z ${REC[$n]:-} ]] || continue
      if [[ " $f" == *" $n "* ]]; then left=$((left + 1)); else REC[$n]=$(epoch); fi
    done
    ((left == 0)) && break
    sleep 1
  done
  ((left == 0)) || die "storage1's sectors not recovered 150 s after the link came back: faulty $f"
  local worst= o
  for n in "${!REC[@]}"; do
    k=$(for x in 0 1 2 3 4 5; do dl_sectors "$x" | grep -qx "$n" && echo "$x"; done)
    o=$((ps + k * W))
    while ((o < up)); do o=$((o + PERIOD)); done # the first Open of its deadline after the link is back
    ((REC[$n] <= o + PERIOD + W)) || fail "sector $n (deadline $k) recovered at ${REC[$n]}, after its second deadline after the link came back closed ($((o + PERIOD + W)))"
    worst+="${worst:+, }sector $n (deadline $k) at $((REC[$n] - up)) ($(((REC[$n] - o) / PERIOD + 1)))"
  done
  report "a storage host's link goes down at a deadline's Challenge" "its sectors skipped $((skip_e - down)) epochs after the cut (--sector-timeout 2 s); the deadline's other sectors proven, landed at $at, $((close - at)) epochs before Close${decl:+; a later deadline ($decl_d) declared faulty $((decl_e - down)) epochs after the cut, before its FaultCutoff}; all $want of its sectors faulty, none other | link back at $up: every sector recovered within its own deadline's first or second instance after: $worst epochs after the link came back (the instance)"
}

# ---- poster: the link of the poster proving a deadline goes down after its Challenge ----
fault_poster() {
  local victim= other line d ps close down took sub sub_e cid at
  marks
  for _ in $(seq 600); do
    for n in poster1 poster2; do
      line=$(since "$n" "${MARK[$n]}" | grep $'\trunning windowPost\t' | tail -1)
      if [[ -n $line ]] && ! since "$n" "${MARK[$n]}" | grep -q $'\twindow PoSt submitted\t'; then
        link_down "$n"
        down=$(epoch)
        victim=$n
        break 2
      fi
    done
    sleep 0.1
  done
  [[ -n $victim ]] || die "no poster was caught between proving and submitting"
  other=poster1
  [[ $victim == poster1 ]] && other=poster2
  d=$(cut -f5 <<<"$line" | jq '.deadline.Index') ps=$(cut -f5 <<<"$line" | jq '.deadline.PeriodStart')
  close=$(cut -f5 <<<"$line" | jq '.deadline.Close')
  echo "poster: $victim cut off at epoch $down holding deadline $d (Close $close)"
  taken() { since "$other" "${MARK[$other]}" | grep $'\twindow PoSt submitted\t' | grep -q "\"deadline\": $d,"; }
  until_ok 20 "deadline $d submitted by $other" taken
  took=$(since "$other" "${MARK[$other]}" | grep $'\trunning windowPost\t' | grep "\"PeriodStart\":$ps,\"Index\":$d," | head -1)
  sub=$(since "$other" "${MARK[$other]}" | grep $'\twindow PoSt submitted\t' | grep "\"deadline\": $d," | head -1)
  sub_e=$(epoch_at "$sub") cid=$(cut -f5 <<<"$sub" | jq -r .cid)
  until_ok 20 "the SubmitWindowedPoSt of $other on chain" landed "$cid"
  at=$(landed "$cid")
  ((at <= close)) || fail "deadline $d landed at $at, after its Close $close"
  until_ok 20 "deadline $d closed" eval '(($(epoch) > close + 1))'
  no_faults || fail "faults after $victim was cut off: $(faults)"
  link_up "$victim"
  sleep 5
  local l
  while read -r l; do
    [[ -n $l ]] && (($(epoch_at "$l") > down)) && fail "$victim, cut off, submitted deadline $d too: $l"
  done <<<"$(since "$victim" "${MARK[$victim]}" | grep $'\twindow PoSt submitted\t' | grep "\"deadline\": $d,")"
  report "a poster host's link goes down after Challenge" "$other proved the deadline $(($(epoch_at "$took") - down)) epochs after the cut (its lease lapsed: 2 s) and its SubmitWindowedPoSt landed at $at, $((close - at)) epochs before Close; no fault | the link back: $victim rejoins; nothing it held is sent twice"
}

# ---- sealer: a sealer host goes down (power) while it holds a sector ----
fault_sealer() {
  local row victim= n vpid holder down took prov
  pledge sealer2 2 >/dev/null || die "sectors pledge"
  for _ in $(seq 300); do
    row=$(sectors | jq -c '[.[] | select(.number > 8 and .owner != null and (.state | IN("PreCommitting", "PreCommitWait", "WaitSeed")))][0] // empty')
    if [[ -n $row ]]; then
      holder=$(jq .owner <<<"$row")
      vpid=$(reg machines '{"miner": 1000}' | jq -r ".machines[] | select(.id == $holder) | .pid")
      for n in sealer1 sealer2; do [[ ${MPID[$n]} == "$vpid" ]] && victim=$n; done
      [[ -n $victim ]] && break
    fi
    sleep 0.1
  done
  [[ -n $victim ]] || die "no sealer was caught holding a sector"
  n=$(jq .number <<<"$row")
  host_kill "$victim"
  link_down "$victim"
  down=$(epoch)
  echo "sealer: $victim went down at epoch $down holding sector $n ($(jq -r .state <<<"$row"))"
  moved() { [[ $(sectors | jq ".[] | select(.number == $n) | .owner") != "$holder" ]]; }
  until_ok 30 "sector $n taken over" moved
  took=$(epoch)
  proving() { [[ $(sectors | jq -r ".[] | select(.number == $n) | .state") == Proving ]]; }
  until_ok 120 "sector $n Proving" proving
  prov=$(epoch)
  report "a sealer host goes down mid-seal" "the other sealer took sector $n over $((took - down)) epochs after (the lease: 2 s) and went on from $(jq -r .state <<<"$row") | the sector Proving $((prov - down)) epochs after the host went down"
}

# pledge_load HOST SECONDS FILE : pledges every 0.5 s, writing each acknowledged number to FILE
# and the error of each refused one to FILE.refused
pledge_load() {
  local end=$((SECONDS + $2)) n
  while ((SECONDS < end)); do
    n=$(M "$1" sectors pledge --json 2>>"$3.refused" | jq .SectorNumber 2>/dev/null)
    [[ $n =~ ^[0-9]+$ ]] && echo "$n" >>"$3"
    sleep 0.5
  done
}
acked_kept() { # acked_kept FILE : every number in FILE is a sector of the registry, and Proving
  local list
  list=$(sectors)
  for n in $(cat "$1"); do [[ $(jq -r ".[] | select(.number == $n) | .state" <<<"$list") == Proving ]] || return 1; done
}
live_sealer() { for n in sealer1 sealer2; do kill -0 "${MPID[$n]}" 2>/dev/null && { echo "$n"; return; }; done; }

# ---- postgres: PostgreSQL stops for 3 s (longer than a lease) and starts again, under load ----
fault_postgres() {
  local h load t0 t1 acked
  h=$(live_sealer)
  : >"$tmp/acked-pg"
  : >"$tmp/acked-pg.refused"
  marks
  pledge_load "$h" 8 "$tmp/acked-pg" &
  load=$!
  sleep 3
  t0=$(epoch)
  pg_stop || die "PostgreSQL did not stop: $(tail -5 "$tmp/pg/server.log")"
  sleep 3
  pg_start || die "PostgreSQL did not start again: $(tail -5 "$tmp/pg/server.log")"
  t1=$(epoch)
  wait "$load"
  acked=$(wc -l <"$tmp/acked-pg")
  ((acked >= 5)) || fail "only $acked pledges acknowledged around the restart"
  for r in srv1 srv2; do kill -0 "${REG_PID[$r]}" || fail "registry $r died with PostgreSQL's restart"; done
  until_ok 120 "every acknowledged pledge Proving" acked_kept "$tmp/acked-pg"
  local back; back=$(epoch)
  for n in "$h" poster1 poster2; do
    kill -0 "${MPID[$n]}" 2>/dev/null || fail "$n died with PostgreSQL's restart"
  done
  fresh() { [[ $(reg machines '{"miner": 1000}' | jq '[.machines[] | select(.alive == 1)] | length') -ge 3 ]]; }
  until_ok 10 "every process heartbeats again" fresh
  posts() { for n in poster1 poster2; do since "$n" "${MARK[$n]}" | grep $'\twindow PoSt submitted\t'; done | grep -q .; }
  until_ok 40 "a WindowPoSt after the restart" posts
  report "PostgreSQL restarts under load" "down $((t1 - t0)) epochs (stop, 3 s, start); the registry answered 503 meanwhile and re-made its connections after; $acked pledges acknowledged around it, $(grep -c . "$tmp/acked-pg.refused") refused while it was down ($(head -1 "$tmp/acked-pg.refused" | cut -c1-120)) | all $acked acknowledged sectors Proving $((back - t1)) epochs after; every process carried on, WindowPoSt went on"
}

# ---- registry: registry A is killed with kill -9 ----
fault_registry() {
  local h load down moved_e acked posted_e cid
  h=$(live_sealer)
  : >"$tmp/acked-reg"
  : >"$tmp/acked-reg.refused"
  marks
  pledge_load "$h" 6 "$tmp/acked-reg" &
  load=$!
  sleep 3
  kill -9 "${REG_PID[srv1]}"
  down=$(epoch)
  wait "$load"
  acked=$(wc -l <"$tmp/acked-reg")
  ((acked >= 5)) || fail "only $acked pledges acknowledged around the kill"
  until_ok 120 "every acknowledged pledge Proving" acked_kept "$tmp/acked-reg"
  local moved last=0 e
  for n in "$h" poster1 poster2; do
    moved=$(since "$n" "${MARK[$n]}" | grep $'\tregistry unreachable, moving on to the next\t' | head -1)
    [[ -n $moved ]] || { fail "$n never moved on to registry B"; continue; }
    e=$(epoch_at "$moved")
    ((e > last)) && last=$e
  done
  posts() { for n in poster1 poster2; do since "$n" "${MARK[$n]}" | grep $'\twindow PoSt submitted\t'; done | grep -q .; }
  until_ok 40 "a WindowPoSt after the kill" posts
  report "a registry instance is killed (kill -9)" "every process moved on to the other instance by $((last - down)) epoch(s) after; $acked pledges acknowledged around the kill, $(grep -c . "$tmp/acked-reg.refused") refused | all $acked acknowledged sectors Proving (those instance A acknowledged included); WindowPoSt went on"
}

for f in $FAULTS; do "fault_$f"; done
grep -h 'failed on chain' "$tmp"/poster*.log && fail "a poster's message failed on chain"
grep -E 'exited [1-9][0-9]* .*(SubmitWindowedPoSt|DeclareFaults|PreCommitSector|ProveCommitSector)' "$tmp/daemon.log" &&
  fail "a message of the miner failed on chain"
echo "| fault | detected, and what the cluster did | recovered |"
cat "$tmp/report" 2>/dev/null
if ((failures)); then
  show_logs 20
  exit 1
fi
echo "ok"
