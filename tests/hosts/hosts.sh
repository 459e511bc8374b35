# Sourced by the multi-host tests and benches: hosts as network namespaces on a switch of their
# own, storage exported over sshfs, PostgreSQL in a host. Needs root (namespaces, FUSE).
#
# The switch is a namespace holding one bridge; each host is a namespace joined to it by a veth
# pair (eth0 in the host, v-NAME on the bridge), with its own mount namespace kept alive by a
# holder process, so a host's mounts are its own. Addresses are the seed's (10.10.0.0/16), which
# no other namespace sees. Every process is started through `on`/`spawn` and recorded;
# hosts_cleanup (on EXIT) kills what runs in the namespaces, by PID, and deletes them, which
# takes their mounts with them.
#
#   hosts_init                      the switch; sets HOSTS_TMP, a folder for the run
#   host_add NAME ADDR              a host
#   on NAME CMD...                  CMD in NAME's network and mount namespaces (foreground)
#   spawn NAME LOG CMD...           the same in the background, output to LOG; sets SPAWNED
#   gone PID                        waits (up to 10 s) until a spawned process has exited
#   link_down NAME / link_up NAME   cut NAME off the switch, or join it again
#   host_kill NAME                  kill -9 every process of NAME (a power cut), holder included
#   storage_up NAME SIZE            NAME exports a tmpfs of SIZE (its own disk, seen by NAME only)
#                                   over sshd
#   storage_mount HOST STORAGE DIR  HOST mounts STORAGE's export at DIR over sshfs
#   pg_up NAME                      PostgreSQL on NAME:5432, trusting 10.10.0.0/16; sets PG_URL
#   pg_stop / pg_start              pg_ctl stop -m fast / start
HOSTS_ID=st$$
HOSTS_SW=$HOSTS_ID-sw
declare -A HOST_ADDR HOST_HOLDER
HOSTS_PIDS=()
HOSTS_PG=
SSHFS_OPTS=${SSHFS_OPTS:-ServerAliveInterval=2,ServerAliveCountMax=2,ConnectTimeout=2,reconnect}

hosts_init() {
  [[ $(id -u) == 0 ]] || { echo "hosts.sh: needs root (network and mount namespaces, FUSE)"; exit 1; }
  for c in ip nsenter unshare sshfs /usr/sbin/sshd ssh-keygen; do
    command -v "$c" >/dev/null || { echo "hosts.sh: $c is missing: run scripts/install-deps.sh"; exit 1; }
  done
  [[ -c /dev/fuse ]] || { echo "hosts.sh: /dev/fuse is missing: sshfs cannot mount"; exit 1; }
  local ns owner
  for ns in $(ip netns list | awk '{print $1}' | grep -E '^st[0-9]+-'); do # left by a run killed with -9
    owner=${ns%%-*}
    kill -0 "${owner#st}" 2>/dev/null && continue
    ip netns pids "$ns" | xargs -r kill -9
    ip netns del "$ns"
  done
  HOSTS_TMP=$(mktemp -d /tmp/st-hosts.XXXXXX)
  chmod 755 "$HOSTS_TMP"
  trap hosts_cleanup EXIT
  trap 'exit 130' INT TERM HUP # so that the EXIT trap runs
  ip netns add "$HOSTS_SW" || exit 1
  ip -n "$HOSTS_SW" link set lo up
  ip -n "$HOSTS_SW" link add br0 type bridge
  ip -n "$HOSTS_SW" link set br0 up
  ssh-keygen -q -t ed25519 -N '' -f "$HOSTS_TMP/id" </dev/null
  ssh-keygen -q -t ed25519 -N '' -f "$HOSTS_TMP/hostkey" </dev/null
  mkdir -p /run/sshd # sshd's privilege separation folder
}

host_add() {
  local name=$1 addr=$2 ns=$HOSTS_ID-$1
  ip netns add "$ns" || exit 1
  ip -n "$ns" link set lo up
  ip link add eth0 netns "$ns" type veth peer name "v-$name" netns "$HOSTS_SW"
  ip -n "$HOSTS_SW" link set "v-$name" master br0 up
  ip -n "$ns" addr add "$addr/16" dev eth0
  ip -n "$ns" link set eth0 up
  nsenter --net="/run/netns/$ns" unshare -m --propagation private sleep infinity &
  HOST_HOLDER[$name]=$!
  HOST_ADDR[$name]=$addr
  HOSTS_PIDS+=("$!")
  disown "$!"
  for _ in $(seq 50); do
    [[ $(readlink "/proc/$!/ns/mnt") != "$(readlink /proc/self/ns/mnt)" ]] && return 0
    sleep 0.05
  done
  echo "hosts.sh: host $name got no mount namespace"
  exit 1
}

on() {
  local h=$1
  shift
  nsenter -t "${HOST_HOLDER[$h]}" -n -m -- "$@"
}
spawn() {
  local h=$1 log=$2
  shift 2
  nsenter -t "${HOST_HOLDER[$h]}" -n -m -- "$@" >>"$log" 2>&1 &
  SPAWNED=$!
  HOSTS_PIDS+=("$!")
  disown "$!" # killed by the test, or at cleanup; no job notices
}
gone() { for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; return 1; } # gone PID : waits up to 10 s

link_down() { ip -n "$HOSTS_SW" link set "v-$1" down; }
link_up() { ip -n "$HOSTS_SW" link set "v-$1" up; }
host_kill() { ip netns pids "$HOSTS_ID-$1" | xargs -r kill -9; }

storage_up() {
  local name=$1 size=$2 dir=$HOSTS_TMP/$1
  mkdir -p "$dir/export"
  on "$name" mount -t tmpfs -o "size=$size" tmpfs "$dir/export"
  cp "$HOSTS_TMP/id.pub" "$dir/authorized_keys"
  cat >"$dir/sshd_config" <<EOF
ListenAddress ${HOST_ADDR[$name]}
HostKey $HOSTS_TMP/hostkey
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
Subsystem sftp internal-sftp
EOF
  spawn "$name" "$dir/sshd.log" /usr/sbin/sshd -D -e -f "$dir/sshd_config"
  for _ in $(seq 50); do
    grep -q 'Server listening' "$dir/sshd.log" && return 0
    sleep 0.1
  done
  echo "hosts.sh: sshd on $name did not start: $(cat "$dir/sshd.log")"
  exit 1
}

storage_mount() {
  local host=$1 st=$2 dir=$3
  on "$host" mkdir -p "$dir"
  spawn "$host" "$HOSTS_TMP/sshfs-$host-$st.log" sshfs -f "root@${HOST_ADDR[$st]}:$HOSTS_TMP/$st/export" "$dir" \
    -o "IdentityFile=$HOSTS_TMP/id,StrictHostKeyChecking=no,UserKnownHostsFile=/dev/null,LogLevel=ERROR,$SSHFS_OPTS"
  for _ in $(seq 100); do
    on "$host" mountpoint -q "$dir" && return 0
    sleep 0.1
  done
  echo "hosts.sh: $host could not mount $st's export at $dir: $(cat "$HOSTS_TMP/sshfs-$host-$st.log")"
  exit 1
}

pg_up() {
  local name=$1 bindir
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [[ -x $bindir/initdb ]] || { echo "hosts.sh: no PostgreSQL server (run scripts/install-deps.sh)"; exit 1; }
  HOSTS_PG=$HOSTS_TMP/pg
  HOSTS_PG_CTL=(runuser -u postgres -- "$bindir/pg_ctl" -D "$HOSTS_PG/data" -l "$HOSTS_PG/server.log" -w -t 60)
  mkdir -p "$HOSTS_PG" && chown postgres: "$HOSTS_PG"
  runuser -u postgres -- "$bindir/initdb" -D "$HOSTS_PG/data" -U postgres -A trust -E UTF8 >"$HOSTS_PG/initdb.log" 2>&1 ||
    { cat "$HOSTS_PG/initdb.log"; exit 1; }
  echo "host all all 10.10.0.0/16 trust" >>"$HOSTS_PG/data/pg_hba.conf"
  HOSTS_PG_HOST=$name
  HOSTS_PG_OPTS="-h ${HOST_ADDR[$name]} -p 5432 -k $HOSTS_PG -c max_connections=200"
  pg_start || { cat "$HOSTS_PG/server.log"; exit 1; }
  PG_URL="postgresql://postgres@${HOST_ADDR[$name]}:5432/postgres"
}
pg_stop() { on "$HOSTS_PG_HOST" "${HOSTS_PG_CTL[@]}" -m fast stop >/dev/null; }
pg_start() { on "$HOSTS_PG_HOST" "${HOSTS_PG_CTL[@]}" -o "$HOSTS_PG_OPTS" start >/dev/null; }

hosts_cleanup() {
  local rc=$? ns left=
  [[ -n $HOSTS_PG ]] && on "$HOSTS_PG_HOST" "${HOSTS_PG_CTL[@]}" -m immediate stop >/dev/null 2>&1
  disown -a 2>/dev/null
  for p in "${HOSTS_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  for ns in $(ip netns list | awk '{print $1}' | grep "^$HOSTS_ID-"); do
    ip netns pids "$ns" | xargs -r kill -9
    ip netns del "$ns"
  done
  sleep 0.2
  for p in "${HOSTS_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && left+=" pid $p"; done
  ns=$(ip netns list | awk '{print $1}' | grep "^$HOSTS_ID-" | tr '\n' ' ')
  [[ -n $ns ]] && left+=" namespaces $ns"
  [[ -n ${KEEP_TMP:-} ]] || rm -rf "$HOSTS_TMP"
  if [[ -n $left ]]; then
    echo "hosts.sh: FAIL: left behind:$left"
    exit 1
  fi
  exit "$rc"
}
