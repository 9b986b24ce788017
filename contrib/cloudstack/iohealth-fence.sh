# shellcheck shell=bash
# Sourced by the iohealth drop-ins for CloudStack's heartbeat scripts (kvmheartbeat.sh,
# kvmspheartbeat.sh). `iohealth_fence NAME REASON` hands the fence to iohealthd over D-Bus
# (Manager.RequestFence "heartbeat-timeout"): iohealthd runs its configured ladder, capped by
# kvm.heartbeat.fence.action and reboot.host.and.alert.management.on.heartbeat.timeout in
# agent.properties (docs/cloudstack.md). Only when iohealthd does not take the request does the
# stock behaviour run (sync, 5 s, sysrq reboot): a host whose heartbeat is gone must not keep
# running its VMs while its neighbours restart them (apache/cloudstack PR #2984).

# The only test seam: where the fallback writes 'b' (tests point it at a file).
IOHEALTH_SYSRQ_TRIGGER=${IOHEALTH_SYSRQ_TRIGGER:-/proc/sysrq-trigger}

iohealth_fence() {
  local name=$1 reason=$2 reply
  # busctl reads DBUS_SYSTEM_BUS_ADDRESS like every sd-bus client.
  if reply=$(busctl --system --timeout=10 call org.iohealth.IoHealth1 /org/iohealth/IoHealth1 \
      org.iohealth.IoHealth1.Manager RequestFence ss heartbeat-timeout "$reason" 2>&1); then
    /usr/bin/logger -t heartbeat "$name: unable to write the heartbeat to the storage; fence handed to iohealthd (request ${reply#t })."
    return 0
  fi
  /usr/bin/logger -t heartbeat "$name: iohealthd did not take the fence ($reply); falling back to sysrq."
  /usr/bin/logger -t heartbeat "$name will reboot system because it was unable to write the heartbeat to the storage."
  sync &
  sleep 5
  echo b > "$IOHEALTH_SYSRQ_TRIGGER"
}
