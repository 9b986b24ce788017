#!/bin/bash
# iohealth drop-in for CloudStack's scripts/vm/hypervisor/kvm/kvmheartbeat.sh (NFS pools).
# Same flags, heartbeat file ($mnt/KVMHA/hb-<host ip>, epoch seconds and a newline), stdout and
# exit codes as the stock script. What differs, and why, is in docs/cloudstack.md:
#  - write: the file is replaced atomically (temporary file + rename), never truncated first;
#    nothing is remounted and no qemu process is killed; an unmounted -m is refused;
#  - read: the age in the DEAD line is the real one (the stock `return $diff` wraps at 256);
#  - -c: the fence goes to iohealthd (RequestHeartbeatFence, naming this pool), which judges it
#    by its evidence for the pool's mount; if iohealthd will not act, the fallback of
#    /etc/default/iohealth-cloudstack runs (default: the stock fence). It does not depend on
#    the mount being there.

usage() {
  printf "Usage: %s\n                    -i nfs server ip\n                    -p nfs server path\n                    -m mount point\n                    -h host\n                    -r write/read hb log\n                    -c cleanup\n                    -t interval between read hb log\n" "$0"
  exit 1
}

nfs_ip=
nfs_path=
mount_point=
host_ip=
interval=
rflag=0
cflag=0
while getopts 'i:p:m:h:t:rc' option; do
  case $option in
    i) nfs_ip=$OPTARG ;;
    p) nfs_path=$OPTARG ;;
    m) mount_point=$OPTARG ;;
    h) host_ip=$OPTARG ;;
    t) interval=$OPTARG ;;
    r) rflag=1 ;;
    c) cflag=1 ;;
    *) usage ;;
  esac
done

# As stock: no server address, no output, exit 1.
[ -n "$nfs_ip" ] || exit 1

# The stock script builds the name this way; its messages show the double slash.
hb_folder=$mount_point/KVMHA/
hb_file=$hb_folder/hb-$host_ip

is_number() {
  [[ $1 =~ ^[0-9]+$ ]]
}

# -r -t N: ALIVE unless the last write is more than N seconds old. A missing, empty or torn
# file reads ALIVE, as stock (its `expr` fails and the test falls through): a host that never
# wrote is not declared dead by this check. Always exit 0: the verdict is the stdout line.
check_heartbeat() {
  local now hb age
  now=$(date +%s)
  hb=$(cat "$hb_file" 2>/dev/null)
  if is_number "$hb" && is_number "$interval"; then
    age=$((now - 10#$hb))
    if [ "$age" -gt "$((10#$interval))" ]; then
      echo "=====> Considering host as DEAD because last write on [$hb_file] was [$age] seconds ago, but the max interval is [$interval] <======"
      return
    fi
  fi
  echo "=====> ALIVE <====="
}

# Write: epoch seconds and a newline, through a temporary file and a rename so a reader never
# sees a torn file. Exit 2 when the file cannot be created, 1 when it cannot be written.
write_heartbeat() {
  if ! mountpoint -q "$mount_point"; then
    # Writing into the directory under a vanished mount would keep this host "alive" locally
    # while every neighbour reads a stale heartbeat.
    echo "$mount_point is not mounted" >&2
    return 1
  fi
  if [ ! -e "$hb_file" ] && ! { mkdir -p "$hb_folder" && touch "$hb_file"; } 2>/dev/null; then
    printf "Failed to create %s" "$hb_file"
    return 2
  fi
  # One writer per host (the agent's KVMHAMonitor): temporaries left by a killed write go.
  rm -f "$hb_folder.hb-$host_ip".* 2>/dev/null
  local tmp=$hb_folder.hb-$host_ip.$$
  # -T: a directory named like the file is an error, not a place to move the file into.
  if ! { date +%s > "$tmp" && mv -f -T "$tmp" "$hb_file"; } 2>/dev/null; then
    rm -f "$tmp" 2>/dev/null
    echo "Failed to write $hb_file" >&2
    return 1
  fi
}

if [ "$rflag" = 1 ]; then
  check_heartbeat
  exit 0
elif [ "$cflag" = 1 ]; then
  # shellcheck source=iohealth-fence.sh
  . "$(dirname "$(readlink -f "$0")")/iohealth-fence.sh"
  iohealth_fence kvmheartbeat.sh \
    "kvmheartbeat.sh -c: the CloudStack agent could not write its heartbeat to $nfs_ip:$nfs_path on $mount_point" \
    server "$nfs_ip" export "$nfs_path" mount "$mount_point"
  exit $?
else
  write_heartbeat
  exit $?
fi
