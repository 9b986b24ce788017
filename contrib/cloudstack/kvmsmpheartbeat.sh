#!/bin/bash
# iohealth drop-in for CloudStack's scripts/vm/hypervisor/kvm/kvmsmpheartbeat.sh
# (SharedMountPoint pools: a clustered file system mounted at the same path on every host).
# Same flags, heartbeat file ($mnt/KVMHA/hb-<host>, epoch seconds and a newline), stdout and
# exit codes as the stock script. What differs, and why, is in docs/cloudstack.md:
#  - write: no qemu process is killed (the stock script kills every qemu whose command line
#    names the mount point on each write while it is mounted); a directory in the heartbeat
#    file's place is an error (the stock `mv` moves the new file into it and succeeds);
#  - -c: the fence goes to iohealthd (RequestHeartbeatFence, naming the mount), which judges
#    it by its evidence for that mount; if iohealthd will not act, the fallback of
#    /etc/default/iohealth-cloudstack runs (default: the stock fence).

usage() {
  printf 'Usage: %s
                -i identifier (required for CLI compatibility; value ignored by local-only heartbeat)
                -p path (required for CLI compatibility; value ignored by local-only heartbeat)
                -m mount point (local path where heartbeat will be written)
                -h host (host IP/name to include in heartbeat filename)
                -r write/read hb log (read-check mode)
                -c cleanup (trigger emergency reboot)
                -t interval between read hb log\n' "$0"
  exit 1
}

mount_point=
host=
interval=
rflag=0
cflag=0
while getopts 'i:p:m:h:t:rc' option; do
  case $option in
    i | p) ;;  # accepted and ignored, as stock
    m) mount_point=$OPTARG ;;
    h) host=$OPTARG ;;
    t) interval=$OPTARG ;;
    r) rflag=1 ;;
    c) cflag=1 ;;
    *) usage ;;
  esac
done

if [ -z "$mount_point" ]; then
  echo "Mount point (-m) is required"
  usage
fi
if [ ! -d "$mount_point" ] && ! mkdir -p "$mount_point" 2>/dev/null; then
  echo "Failed to create mount point directory: $mount_point" >&2
  exit 1
fi

# The stock script builds the name this way; its messages show the double slash.
hb_folder="$mount_point/KVMHA/"
hb_file="$hb_folder/hb-$host"

# Exit 2 when the folder cannot be written or the temporary file not created; otherwise the
# rename's status (1 when a directory is in the way).
write_heartbeat() {
  if ! stat "$hb_file" >/dev/null 2>&1; then
    mkdir -p "$hb_folder" >/dev/null 2>&1
    if [ ! -w "$hb_folder" ]; then
      printf '%s' "Folder not writable: $hb_folder" >&2
      return 2
    fi
  fi
  local tmp="$hb_file.$$"
  if ! date +%s > "$tmp" 2>/dev/null; then
    printf '%s' "Failed to write heartbeat to $tmp" >&2
    return 2
  fi
  # -T: a directory named like the file is an error, not a place to move the file into.
  mv -f -T "$tmp" "$hb_file" 2>/dev/null || { local rc=$?; rm -f "$tmp"; return $rc; }
}

# The age the DEAD line reports, or nothing when the heartbeat is fresh. As stock: a missing
# file (or a directory) reads 999999, an empty one 999998, one `expr` cannot subtract 999997;
# without -t any age above 0 is DEAD. Unlike stock, an age of 0 is fresh: `expr` exits 1 when
# its result is 0, which the stock script takes for an error (999997, DEAD) whenever a
# neighbour reads the file in the second it was written.
heartbeat_age() {
  [ -f "$hb_file" ] || { echo 999999; return; }
  local hb now age
  hb=$(cat "$hb_file" 2>/dev/null)
  [ -n "$hb" ] || { echo 999998; return; }
  now=$(date +%s)
  # expr, as stock: it decides what a number is (leading blanks, a sign) and fails otherwise.
  # shellcheck disable=SC2003,SC2086  # unquoted $hb: split as stock splits it
  age=$(expr "$now" - $hb 2>/dev/null)
  [ $? -le 1 ] || { echo 999997; return; }
  if [ -z "$interval" ]; then
    [ "$age" -gt 0 ] && echo "$age"
  elif [ "$age" -gt "$interval" ] 2>/dev/null; then
    echo "$age"
  fi
}

if [ "$rflag" = 1 ]; then
  age=$(heartbeat_age)
  if [ -z "$age" ]; then
    echo "=====> ALIVE <====="
  else
    echo "=====> Considering host as DEAD because last write on [$hb_file] was [$age] seconds ago, but the max interval is [$interval] <======"
  fi
  exit 0
elif [ "$cflag" = 1 ]; then
  # shellcheck source=iohealth-fence.sh
  . "$(dirname "$(readlink -f "$0")")/iohealth-fence.sh"
  iohealth_fence kvmsmpheartbeat.sh \
    "kvmsmpheartbeat.sh -c: the CloudStack agent could not write its heartbeat to $mount_point" \
    mount "$mount_point"
  exit $?
else
  write_heartbeat
  exit $?
fi
