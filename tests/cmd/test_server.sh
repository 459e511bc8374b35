#!/usr/bin/env bash
# Drives spacetime-server as an operator would, against a server this script starts on loopback:
# the seed's row in, the seed's row and path out; every mistake is one "ERROR: ..." line and exit 1.
set -u
ST=${1:?usage: test_server.sh PATH-TO-spacetime}
SRV=$(dirname "$ST")/spacetime-server
tmp=$(mktemp -d)
pid=
cleanup() {
  [[ -n $pid ]] && kill -9 "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
export SPACETIME_SERVER_REPO=$tmp/repo
unset SPACETIME_SERVER_API SPACETIME_SERVER_TOKEN

ok() { # ok WANT_STDOUT ARGS... : exit 0 and exactly this stdout
  local want=$1; shift
  local got rc
  got=$("$SRV" "$@" 2>"$tmp/stderr"); rc=$?
  if [[ $rc -ne 0 || "$got" != "$want" ]]; then
    echo "FAIL: spacetime-server $*"; echo "  want: $want"; echo "  got:  $got (exit $rc)"; sed 's/^/  stderr: /' "$tmp/stderr"
    failures=$((failures + 1))
  fi
}

has() { # has WANT_SUBSTRING ARGS... : exit 0 and stdout contains this
  local want=$1; shift
  local got rc
  got=$("$SRV" "$@" 2>"$tmp/stderr"); rc=$?
  if [[ $rc -ne 0 || "$got" != *"$want"* ]]; then
    echo "FAIL: spacetime-server $* (want stdout containing: $want)"; echo "  got: $got (exit $rc)"; sed 's/^/  stderr: /' "$tmp/stderr"
    failures=$((failures + 1))
  fi
}

bad() { # bad WANT_SUBSTRING ARGS... : exit 1, empty stdout, one ERROR line containing WANT
  local want=$1; shift
  local out rc lines
  out=$("$SRV" "$@" 2>"$tmp/stderr" </dev/null); rc=$?
  lines=$(wc -l <"$tmp/stderr")
  if [[ $rc -ne 1 || -n "$out" || $lines -ne 1 ]] || ! grep -q "^ERROR: " "$tmp/stderr" || ! grep -qF -- "$want" "$tmp/stderr"; then
    echo "FAIL: spacetime-server $* (want one ERROR line containing: $want)"; echo "  exit $rc, stdout: $out"; sed 's/^/  stderr: /' "$tmp/stderr"
    failures=$((failures + 1))
  fi
}

start_server() { # start_server ARGS... : runs `spacetime-server run` and waits for its api file
  rm -f "$tmp/repo/api"
  "$SRV" run --listen 127.0.0.1:0 "$@" 2>>"$tmp/server.log" &
  pid=$!
  for _ in $(seq 100); do
    [[ -s $tmp/repo/api ]] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "FAIL: spacetime-server run did not start"; cat "$tmp/server.log"; exit 1
}

# ---- starting ----
bad 'listen address "nonsense" is not HOST:PORT' run --listen nonsense
bad 'is neither sqlite:PATH nor postgres://' run --db mysql://root@localhost/x
bad 'could not open sqlite database path="/nonexistent/dir/registry.db"' run --db sqlite:/nonexistent/dir/registry.db
bad '--heartbeat-timeout must be a positive number of seconds' run --heartbeat-timeout 0
# no secret on a command line: a password in --db is refused; the URL comes from a file or the environment
bad '--db postgres://u:***@127.0.0.1:1/x carries a password' run --db postgres://u:secret@127.0.0.1:1/x
bad '--db postgresql://u@127.0.0.1:1/x?password=*** carries a password' run --db 'postgresql://u@127.0.0.1:1/x?password=secret'
printf 'sqlite:/nonexistent/dir/file.db\n' >"$tmp/dburl"
bad 'could not open sqlite database path="/nonexistent/dir/file.db"' run --db-file "$tmp/dburl"
bad '--db-file: path="'"$tmp"'/none" is missing or empty' run --db-file "$tmp/none"
bad 'give --db or --db-file, not both' run --db-file "$tmp/dburl" --db sqlite:x
SPACETIME_DB=sqlite:/nonexistent/dir/env.db bad 'could not open sqlite database path="/nonexistent/dir/env.db"' run
bad 'unknown flag --token' storage-nodes list --token x
start_server
api=$(cat "$tmp/repo/api")
[[ $(stat -c %a "$tmp/repo/token") == 600 ]] || { echo "FAIL: token file is not mode 600"; failures=$((failures + 1)); }
port=${api##*:}
bad "could not listen on 127.0.0.1:$port: Address already in use" run --listen "127.0.0.1:$port" --repo "$tmp/other"

# ---- the seed's row and path ----
header=$'ID\tHOST\tGROUP\tMOUNT-HOST\tTYPE\tCAPACITY\tAVAILABLE\tWEIGHT\tHEARTBEAT\tVERSION'
seedrow=$'1\t10.10.4.23\t1\t10.10.4.23\tnfs\t0 B\t0 B\t10\tnever\t1'
ok "$header"$'\n'"$seedrow" storage-nodes add --host 10.10.4.23 --group 1 --mount-host 10.10.4.23 --type nfs
ok "$header"$'\n'"$seedrow" storage-nodes list
has '"host":"10.10.4.23","group":1,"mount_host":"10.10.4.23","mount_type":"nfs"' storage-nodes list --json
ok "declared cache of s-t01003-2218 on storage node 1" sectors declare --miner t01003 --sector 2218 --kind cache --node 1
ok "/mnt/nfs/10.10.4.23/cache/s-t01003-2218" paths resolve --miner t01003 --sector 2218 --kind cache --dist-path /mnt
ok '{"path":"/mnt/nfs/10.10.4.23/cache/s-t01003-2218","node":1}' paths resolve --miner t01003 --sector 2218 --dist-path /mnt --json
ok $'KIND\tPRIMARY\tNODE\tHOST\tTYPE\ncache\tyes\t1\t10.10.4.23\tnfs' sectors find t01003 2218
ok "no storage node holds sector 9 of t01003" sectors find t01003 9
has $'\tnever\t2' storage-nodes update 1 --weight 20 --version 1
has $'s ago\t2' storage-nodes heartbeat 1 --path "$tmp"
has '"heartbeat_err":"mount lost"' storage-nodes heartbeat 1 --error "mount lost" --json

# ---- mistakes ----
bad 'sector 2218 of miner t01003 has no sealed file on any storage node' paths resolve --miner t01003 --sector 2218 --kind sealed --dist-path /mnt
bad '--dist-path is required' paths resolve --miner t01003 --sector 2218
bad '--host "../x" has '"'/'"' at offset 2' storage-nodes add --host ../x --type nfs
bad '--type: mount_type "NFS" has a bad character' storage-nodes add --host 10.0.0.1 --type NFS
bad 'a storage node with host 10.10.4.23 and mount type nfs exists already' storage-nodes add --host 10.10.4.23 --type nfs
bad 'storage node 1 (10.10.4.23) still holds 1 sector files' storage-nodes rm 1
bad 'storage node id "abc" is not a positive integer' storage-nodes rm abc
bad 'storage node 7 does not exist' storage-nodes rm 7
bad 'is at version 2, not 1' storage-nodes update 1 --weight 5 --version 1
bad 'miner "x1003" is not an ID address like t01003' sectors find x1003 1
bad 'unknown verb "storage-nodes frob"' storage-nodes frob
echo wrong-token-value >"$tmp/wrong-token"
bad "the bearer token does not match this server's" storage-nodes add --host 10.0.0.2 --type nfs --token-file "$tmp/wrong-token"
SPACETIME_SERVER_TOKEN=wrong-token-value bad "the bearer token does not match this server's" storage-nodes add --host 10.0.0.2 --type nfs
SPACETIME_SERVER_REPO=$tmp/empty bad 'writes need "Authorization: Bearer <token>"' storage-nodes add --host 10.0.0.2 --type nfs --server-api "$api"
bad '--error reports a node that cannot serve; it does not go with --path' storage-nodes heartbeat 1 --error x --path /
bad "could not reach http://127.0.0.1:1: Couldn't connect to server (is 'spacetime-server run' up? point to it with --server-api URL)" \
  storage-nodes list --server-api http://127.0.0.1:1
ok "removed storage node 1 (1 sector locations dropped)" storage-nodes rm 1 --force
ok "$header" storage-nodes list

# ---- a clean stop, and a restart that keeps the data ----
"$SRV" storage-nodes add --host 10.10.4.24 --type nfs >/dev/null
kill -TERM "$pid"; wait "$pid"; rc=$?
[[ $rc -eq 0 ]] || { echo "FAIL: SIGTERM exit status $rc"; failures=$((failures + 1)); }
pid=
start_server
has $'2\t10.10.4.24\t1\t10.10.4.24\tnfs' storage-nodes list
kill -TERM "$pid"; wait "$pid"; pid=

if [[ $failures -ne 0 ]]; then echo "$failures failure(s)"; exit 1; fi
echo "all spacetime-server checks passed"
