# shellcheck shell=bash
# DRBD in the guest (sourced after lib.sh by the drbd-* scenarios): two resources in one
# kernel, each other's peer over loopback (r0 on 127.0.0.1:7789, r1 on 127.0.0.1:7790),
# each on its own dm device over a loop device. The 8.4 module is driven with drbdsetup alone
# (no drbd.conf, so no drbdadm).

# A failed scenario exits with the load and the daemon still running; they hold the console
# pipe open and the guest would only end at its hard timeout.
trap 'stop_load; [ -z "$IOHEALTHD_PID" ] || kill -KILL "$IOHEALTHD_PID" 2>/dev/null' EXIT

# The drbd module with a handler that always succeeds: without a drbd.conf the default
# (drbdadm) fails before-resync-source and DRBD drops the connection. Loaded before any
# drbdsetup call, which would load the module itself without the parameter.
drbd_module() {
	modprobe drbd usermode_helper=/bin/true || fail "modprobe drbd failed"
}

# drbd_resource NAME MINOR DISK: metadata and attach.
drbd_resource() {
	drbdmeta --force "$2" v08 "$3" internal create-md >/dev/null 2>&1 ||
		fail "drbdmeta create-md on $3 failed"
	drbdsetup new-resource "$1"
	drbdsetup new-minor "$1" "$2" 0
	drbdsetup attach "$2" "$3" "$3" internal
}

# drbd_pair DISK0 DISK1 [NET-OPTION...]: r0 (minor 0) on DISK0 and r1 (minor 1) on DISK1,
# connected with protocol C and the given net options (--ko-count=2 ...).
drbd_pair() {
	local disk0=$1 disk1=$2
	shift 2
	drbd_resource r0 0 "$disk0"
	drbd_resource r1 1 "$disk1"
	drbdsetup connect r0 ipv4:127.0.0.1:7789 ipv4:127.0.0.1:7790 --protocol=C "$@"
	drbdsetup connect r1 ipv4:127.0.0.1:7790 ipv4:127.0.0.1:7789 --protocol=C "$@"
	step "drbd r0 on $disk0 <-> r1 on $disk1 over lo, protocol C $*"
}

# drbd_field RESOURCE OBJECT FIELD: a field of `drbdsetup events2 --now` ("Connected").
drbd_field() {
	drbdsetup events2 --now --statistics |
		awk -v r="name:$1" -v o="$2" -v f="$3:" '$2 == o && $3 == r {
			for (i = 4; i <= NF; i++) if (index($i, f) == 1) print substr($i, length(f) + 1) }'
}

# drbd_wait RESOURCE OBJECT FIELD VALUE TIMEOUT_S: polls until the field has that value.
drbd_wait() {
	local deadline value
	now_cs
	deadline=$((NOW_CS + $5 * 100))
	until value=$(drbd_field "$1" "$2" "$3") && [ "$value" = "$4" ]; do
		now_cs
		((NOW_CS < deadline)) || fail "DRBD $1 $2 $3 is '$value', not '$4' after $5s"
		nap 0.5
	done
	log "drbd: $1 $2 $3 = $4"
}

# The pair without an initial resync: both sides declared UpToDate (DRBD's documented way for
# new, empty disks), then r0 primary.
drbd_pair_in_sync() {
	drbd_wait r0 connection connection Connected 30
	drbdsetup new-current-uuid --clear-bitmap 0
	drbd_wait r0 device disk UpToDate 30
	drbdsetup primary 0
	step "r0 primary, in sync without a resync (new-current-uuid --clear-bitmap)"
}

# Drops every packet between the two sides (tc on lo: a prio qdisc whose third band is
# netem loss 100%, the DRBD ports filtered into it); drbd_heal_link removes it.
drbd_cut_link() {
	tc qdisc add dev lo root handle 1: prio
	tc qdisc add dev lo parent 1:3 handle 30: netem loss 100%
	local port
	for port in 7789 7790; do
		tc filter add dev lo parent 1:0 protocol ip u32 match ip dport "$port" 0xffff flowid 1:3
		tc filter add dev lo parent 1:0 protocol ip u32 match ip sport "$port" 0xffff flowid 1:3
	done
}
drbd_heal_link() { tc qdisc del dev lo root; }
