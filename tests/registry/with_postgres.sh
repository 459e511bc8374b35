#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL server from Debian's package: initdb in a temp
# folder, listening on 127.0.0.1 only (a free port) and a private socket directory, stopped and
# deleted when the command ends. The command finds it in ST_TEST_PG
# ("postgresql://postgres@127.0.0.1:PORT"; append "/DBNAME").
set -uo pipefail
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [[ -z $bindir || ! -x $bindir/initdb ]]; then
  echo "with_postgres: no PostgreSQL server under /usr/lib/postgresql (run scripts/install-deps.sh)" >&2
  exit 1
fi
tmp=$(mktemp -d /tmp/st-pg.XXXXXX)
as=()
if [[ $(id -u) -eq 0 ]]; then # PostgreSQL refuses to run as root
  chown postgres: "$tmp"
  as=(runuser -u postgres --)
fi
cleanup() {
  "${as[@]}" "$bindir/pg_ctl" -D "$tmp/data" -m fast -w stop >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT
if ! "${as[@]}" "$bindir/initdb" -D "$tmp/data" -U postgres -A trust -E UTF8 --no-sync >"$tmp/initdb.log" 2>&1; then
  cat "$tmp/initdb.log" >&2
  exit 1
fi
started=0
for _ in 1 2 3 4 5 6 7 8; do
  port=$((20000 + RANDOM % 40000))
  # fsync off: the tests kill our server, never PostgreSQL, so its own durability is not under test
  if "${as[@]}" "$bindir/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 60 \
       -o "-h 127.0.0.1 -p $port -k $tmp -c fsync=off -c max_connections=200" start >/dev/null 2>&1; then
    started=1
    break
  fi
done
if [[ $started -ne 1 ]]; then
  echo "with_postgres: could not start PostgreSQL; its log:" >&2
  cat "$tmp/server.log" >&2
  exit 1
fi
export ST_TEST_PG="postgresql://postgres@127.0.0.1:$port"
"$@"
