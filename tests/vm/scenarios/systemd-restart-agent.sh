# The restart-agent rung for real: armed, ladder log-only, restart-agent. A stand-in
# cloudstack-agent.service is restarted by systemd when its path goes DEAD (the job's result,
# "done", is read back; the unit runs a new process); a second path names a stand-in agent
# whose start fails, and its step is reported as failed, with the job's result, not as done.
# vm-init: systemd
# vm-timeout: 420
. "$IOHEALTH_SRC/tests/vm/guest/lib.sh"
. "$IOHEALTH_SRC/tests/vm/guest/systemd.sh"
vm_setup dm-delay
install_package
cat >/etc/systemd/system/cloudstack-agent.service <<'UNIT'
[Unit]
Description=Stand-in for the CloudStack agent
[Service]
ExecStart=/bin/sleep infinity
UNIT
cat >/etc/systemd/system/broken-agent.service <<'UNIT'
[Unit]
Description=Stand-in for an agent that cannot start
[Service]
ExecStartPre=/bin/false
ExecStart=/bin/sleep infinity
UNIT
systemctl daemon-reload
systemctl start cloudstack-agent.service
agent_invocation=$(systemctl show -P InvocationID cloudstack-agent.service)
agent_pid=$(systemctl show -P MainPID cloudstack-agent.service)
step "stand-in cloudstack-agent.service running, pid $agent_pid"

dm1=$(make_delay agentdisk "$(make_loop 64)" 0)
dm2=$(make_delay brokendisk "$(make_loop 64)" 0)
cat >/tmp/iohealthd.conf <<CONF
[daemon]
mode = armed
discover = no
tick = 1s

[policy]
io_timeout = 4s
ladder = log-only, restart-agent
hold.log-only = 2s
repeat_interval = 1s

[path agent]
device = $dm1
agent_unit = cloudstack-agent.service

[path broken]
device = $dm2
agent_unit = broken-agent.service
CONF
configure_iohealthd /tmp/iohealthd.conf
start_unit
start_load "$dm1" 20
fio --name=load2 --filename="$dm2" --rw=randwrite --bs=4k --direct=1 --ioengine=psync \
	--rate_iops=20 --time_based --runtime=3600 --output=/dev/null &
nap 3

step_run "dmsetup suspend agentdisk" dmsetup suspend --nolockfs --noflush agentdisk
expect_event "verdict-changed path=agent .*-> DEAD" 40
expect_event "step-succeeded path=agent step 2 restart-agent" 30 "systemd restarted the agent"
ok_line=$LAST_EVENT
[[ $ok_line == *done* ]] || fail "the step does not carry the job's result: $ok_line"
[ "$(systemctl show -P InvocationID cloudstack-agent.service)" != "$agent_invocation" ] ||
	fail "cloudstack-agent.service was not restarted (same invocation)"
new_pid=$(systemctl show -P MainPID cloudstack-agent.service)
[ "$new_pid" != "$agent_pid" ] && [ "$new_pid" != 0 ] || fail "the agent's process is $new_pid (was $agent_pid)"
systemctl is-active -q cloudstack-agent.service || fail "the restarted agent is not active"
step "cloudstack-agent.service restarted: pid $agent_pid -> $new_pid"
assert_before "step-started path=agent step 1 log-only" "step-started path=agent step 2 restart-agent"
expect_event "escalation-exhausted path=agent" 20

step_run "dmsetup suspend brokendisk" dmsetup suspend --nolockfs --noflush brokendisk
expect_event "verdict-changed path=broken .*-> DEAD" 40
expect_event "step-failed path=broken step 2 restart-agent" 30 "a unit that cannot start"
failed_line=$LAST_EVENT
[[ $failed_line == *failed* ]] || fail "the failed step does not carry the job's result: $failed_line"
assert_no_event "step-succeeded path=broken step 2" "the broken agent's restart reported as done"
systemctl is-failed -q broken-agent.service || fail "broken-agent.service is not failed"
step "broken-agent.service: the step failed, as systemd says: $(systemctl show -P Result broken-agent.service)"
# The journal has both outcomes at their priorities (a failed step is an error).
errors=$(journalctl -b -p err -u $UNIT -o cat --no-pager)
[[ $errors == *"broken: step 2 restart-agent FAILED"* ]] || fail "the failed step is not in journalctl -p err: $errors"
# Storage back, so the loads' I/O completes and they can end.
dmsetup resume agentdisk
dmsetup resume brokendisk
stop_load
save_unit_log
pass
