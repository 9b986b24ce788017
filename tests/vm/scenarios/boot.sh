# The smallest scenario, a smoke test of the VM tier itself: the guest boots the stock kernel,
# finds the modules the other scenarios need, makes a dm device over a loop device, and runs
# the project's daemon from the host's build with its eBPF probes loaded (not DEGRADED MODE).
# vm-timeout: 180
. "$IOHEALTH_SRC/tests/vm/guest/lib.sh"
vm_setup
for m in dm-delay dm-flakey drbd nfs nfsd sch_netem; do
	modinfo -n "$m" >/dev/null || fail "the stock kernel has no module $m"
done
step "modules dm-delay dm-flakey drbd nfs nfsd sch_netem present"
loop=$(make_loop 16)
dm=$(make_linear smoke "$loop")
[ -b "$dm" ] || fail "$dm is not a block device"
step "dm-linear $dm over $loop"
cat >/tmp/iohealthd.conf <<CONF
[daemon]
discover = no
[path smoke]
device = $dm
CONF
start_iohealthd /tmp/iohealthd.conf
wait_for_log "Path 'smoke'.* is device" 20 || fail "the daemon did not resolve $dm"
stop_iohealthd
pass
