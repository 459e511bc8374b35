#!/usr/bin/env bash
# bench/poster_nfs.sh: the poster reading its sectors over the network file system (sshfs, as
# tests/hosts mounts the storage hosts) against the same poster reading a local folder, in one
# run. As root (network namespaces, FUSE).
#
#   bench/poster_nfs.sh PATH/TO/spacetime      (SECTOR_SIZE=8MiB SECTORS=8 PERIODS=1, as poster.sh)
#
# It makes two hosts (tests/hosts/hosts.sh): a storage host exporting a tmpfs over sshd, and a
# poster host that mounts it at /mnt/nfs/10.10.4.23. On the poster host it runs bench/poster.sh
# twice: first with the storage node's folder local (a tmpfs of the poster host), then with it on
# the sshfs mount (ST_STORAGE_ROOT), so every sealed file and every challenged leaf goes over the
# link. Each run prints its table; then, per run, the mean over deadlines of
#   latency  Challenge to the deadline's last SubmitWindowedPoSt in the pool (the 2 s gate in it)
#   work     the poster's own time per message (prove + submit: chain reads, locating, reading
#            the sectors, the proofs)
#   vanilla  the proofs alone (reading the challenged leaves and their paths)
# and the ratios sshfs / local.
set -u
BIN=${1:?usage: bench/poster_nfs.sh PATH/TO/spacetime}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../tests/hosts/hosts.sh"
hosts_init
host_add poster 10.10.6.1
host_add storage1 10.10.4.23
storage_up storage1 2G
on poster mount -t tmpfs tmpfs /mnt
on poster mkdir -p /mnt/local
storage_mount poster storage1 /mnt/nfs/10.10.4.23

declare -A LAT WORK VAN
for where in local sshfs; do
  root=/mnt/local
  [[ $where == sshfs ]] && root=/mnt/nfs/10.10.4.23
  echo "== the storage node's folder: $where ($root)"
  on poster env ST_STORAGE_ROOT="$root" bash "$here/poster.sh" "$BIN" | tee "$HOSTS_TMP/$where.out"
  line=$(grep '^poster.sh summary:' "$HOSTS_TMP/$where.out")
  [[ -n $line ]] || { echo "poster_nfs.sh: the $where run printed no summary"; exit 1; }
  LAT[$where]=$(awk '{print $6}' <<<"$line") WORK[$where]=$(awk '{print $9}' <<<"$line") VAN[$where]=$(awk '{print $12}' <<<"$line")
done
echo "latency: local ${LAT[local]} s, sshfs ${LAT[sshfs]} s; work per message: local ${WORK[local]} ms, sshfs ${WORK[sshfs]} ms; vanilla proof: local ${VAN[local]} ms, sshfs ${VAN[sshfs]} ms"
awk -v a="${LAT[sshfs]}" -v b="${LAT[local]}" -v c="${WORK[sshfs]}" -v d="${WORK[local]}" -v e="${VAN[sshfs]}" -v f="${VAN[local]}" \
  'BEGIN {printf "latency, sshfs / local = %.2f; work, sshfs / local = %.2f; vanilla, sshfs / local = %.2f\n", a / b, c / d, e / f}'
