# shellcheck shell=bash
# Sourced by the iohealth drop-ins for CloudStack's heartbeat scripts (kvmheartbeat.sh,
# kvmspheartbeat.sh, kvmsmpheartbeat.sh).
#
# `iohealth_fence NAME REASON [KEY VALUE]...` hands the agent's fence request to iohealthd
# (Manager.RequestHeartbeatFence, with the pool the KEY VALUE pairs name: server, export,
# mount, resource). iohealthd judges it by its evidence for that pool (docs/cloudstack.md):
#   fencing     a path for the pool made no progress, or iohealthd has no evidence for it: its
#               ladder runs (capped by agent.properties);
#   declined    the pool's path is slow but completes I/O: no reboot, a warning with the
#               evidence; the path's own ladder fences if it goes DEAD;
#   not-acting  dry-run, disarmed or maintenance: iohealthd carries nothing out.
# When iohealthd will not act (not-acting, not on the bus, an error), IOHEALTH_FENCE_FALLBACK
# from /etc/default/iohealth-cloudstack decides, and it is journaled at crit:
#   stock-fence (default)  what the stock script does: sync, 5 s, 'b' to /proc/sysrq-trigger;
#                          a host whose heartbeat is gone must not keep running VMs its
#                          neighbours restart (apache/cloudstack PR #2984);
#   none                   nothing: the host keeps running (an operator's explicit choice).

# Test seams: the settings file, where the stock fence writes 'b', and the syslog socket
# (empty: logger's default, /dev/log, which journald reads).
IOHEALTH_CLOUDSTACK_DEFAULTS=${IOHEALTH_CLOUDSTACK_DEFAULTS:-/etc/default/iohealth-cloudstack}
IOHEALTH_SYSRQ_TRIGGER=${IOHEALTH_SYSRQ_TRIGGER:-/proc/sysrq-trigger}
IOHEALTH_LOG_SOCKET=${IOHEALTH_LOG_SOCKET:-}

# `iohealth_log PRIORITY MESSAGE`: syslog, tag `heartbeat` like the stock scripts' lines.
iohealth_log() {
  /usr/bin/logger ${IOHEALTH_LOG_SOCKET:+--socket "$IOHEALTH_LOG_SOCKET"} -p "user.$1" \
    -t heartbeat "$2"
}

# `iohealth_setting NAME DEFAULT`: NAME from the settings file, else DEFAULT.
iohealth_setting() {
  local value=
  if [ -r "$IOHEALTH_CLOUDSTACK_DEFAULTS" ]; then
    # shellcheck disable=SC1090
    value=$(. "$IOHEALTH_CLOUDSTACK_DEFAULTS" >/dev/null 2>&1; eval "echo \"\${$1:-}\"")
  fi
  echo "${value:-$2}"
}

# The stock fence, as the stock scripts run it.
iohealth_stock_fence() {
  iohealth_log notice "$1 will reboot system because it was unable to write the heartbeat to the storage."
  sync &
  sleep 5
  echo b > "$IOHEALTH_SYSRQ_TRIGGER"
}

# iohealthd will not act: the configured fallback, journaled at crit with what ran and why.
iohealth_fallback() {
  local name=$1 why=$2 fallback
  fallback=$(iohealth_setting IOHEALTH_FENCE_FALLBACK stock-fence)
  case $fallback in
    none)
      iohealth_log crit "$name: iohealthd will not act on the fence ($why); IOHEALTH_FENCE_FALLBACK=none: nothing runs, this host keeps its VMs while its heartbeat is stale."
      return 0
      ;;
    stock-fence) ;;
    *)
      why="$why; IOHEALTH_FENCE_FALLBACK='$fallback' is not stock-fence or none"
      fallback=stock-fence
      ;;
  esac
  iohealth_log crit "$name: iohealthd will not act on the fence ($why); IOHEALTH_FENCE_FALLBACK=$fallback: running the stock fence (sync, 5 s, sysrq reboot)."
  iohealth_stock_fence "$name"
}

iohealth_fence() {
  local name=$1 reason=$2 out
  shift 2
  # busctl reads DBUS_SYSTEM_BUS_ADDRESS like every sd-bus client.
  if ! out=$(busctl --system --timeout=10 call org.iohealth.IoHealth1 /org/iohealth/IoHealth1 \
      org.iohealth.IoHealth1.Manager RequestHeartbeatFence 'sa{ss}' "$reason" \
      $(($# / 2 + 1)) script "$name" "$@" 2>&1); then
    iohealth_fallback "$name" "iohealthd did not answer: ${out//$'\n'/ }"
    return
  fi
  # tss ID "REPLY" "DETAIL"
  if [[ $out =~ ^tss\ ([0-9]+)\ \"(fencing|declined|not-acting)\"\ \"(.*)\"$ ]]; then
    local id=${BASH_REMATCH[1]} reply=${BASH_REMATCH[2]} detail=${BASH_REMATCH[3]}
    # busctl quotes the string C-style: \' and \" first (printf %b leaves them), then the rest.
    detail=${detail//\\\'/\'}
    detail=$(printf '%b' "${detail//\\\"/\"}")
    case $reply in
      fencing)
        iohealth_log notice "$name: unable to write the heartbeat to the storage; fence handed to iohealthd (request $id): $detail"
        return 0
        ;;
      declined)
        iohealth_log warning "$name: unable to write the heartbeat to the storage; iohealthd declined the reboot (request $id): $detail"
        return 0
        ;;
      not-acting)
        iohealth_fallback "$name" "request $id: $detail"
        return
        ;;
    esac
  fi
  iohealth_fallback "$name" "unexpected reply: $out"
}
