// render_effective: a golden check of the exact output, and that the output loads back.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "config/config.h"

namespace iohealth {
namespace {

constexpr std::string_view kConfig = R"([daemon]
mode = armed
[policy]
ladder = log-only, restart-agent, custom, reboot
custom_command = /usr/sbin/fence-peer --reason "io dead"
[path primary]
mount = /mnt/primary
stall_after = 12s
hold.custom = 1m
)";

constexpr std::string_view kGolden =
    R"(# iohealthd effective configuration; each value says where it came from
[daemon]
mode = armed                             ; (set at t.conf:2)
tick = 1s                                ; (default)
record =                                 ; (default)
discover = yes                           ; (default)
sysrq_trigger = /proc/sysrq-trigger      ; (default)
admin_group = iohealth                   ; (default)
watchdog_device =                        ; (default)

# where the guests on this host are listed (empty uri: not at all)
[libvirt]
uri = qemu:///system                     ; (default)

# the CloudStack agent's fence settings (docs/cloudstack.md)
[cloudstack]
agent_properties =                       ; (default)
restart_agent_when_declined = no         ; (default)

# the policy of discovered disks, and the base of every [path]
[policy]
io_timeout = 10s                         ; (preset block)
probe_interval = 2s                      ; (derived from io_timeout)
slow_io = 200ms                          ; (derived from io_timeout)
stall_after = 5s                         ; (derived from io_timeout)
warn_after = 20s                         ; (derived from io_timeout)
dead_after = 25s                         ; (derived from io_timeout)
graceful_deadline = 40s                  ; (derived from io_timeout)
recover_after = 5s                       ; (derived from io_timeout)
step_hold = 10s                          ; (derived from io_timeout)
repeat_interval = 300s                   ; (derived from io_timeout)
custom_timeout = 30s                     ; (derived from io_timeout)
dead_witnesses = both                    ; (preset block)
errors = fence                           ; (preset block)
heartbeat = on                           ; (default)
contended_enter_ticks = 2                ; (default)
ladder = log-only, restart-agent, custom, reboot ; (set at t.conf:4)
hold.log-only = 10s                      ; (derived from io_timeout)
hold.restart-agent = 10s                 ; (derived from io_timeout)
hold.custom = 10s                        ; (derived from io_timeout)
hold.reboot = 10s                        ; (derived from io_timeout)
agent_unit = cloudstack-agent.service    ; (default)
custom_command = /usr/sbin/fence-peer --reason "io dead" ; (set at t.conf:5)

# mount /mnt/primary
[path primary]
mount = /mnt/primary                     ; (set at t.conf:7)
preset = nfs                             ; (default)
io_timeout = 30s                         ; (preset nfs)
probe_interval = 6s                      ; (derived from io_timeout)
slow_io = 600ms                          ; (derived from io_timeout)
stall_after = 12s                        ; (set at t.conf:8)
warn_after = 60s                         ; (derived from io_timeout)
dead_after = 75s                         ; (derived from io_timeout)
graceful_deadline = 120s                 ; (derived from io_timeout)
recover_after = 15s                      ; (derived from io_timeout)
step_hold = 30s                          ; (derived from io_timeout)
repeat_interval = 900s                   ; (derived from io_timeout)
custom_timeout = 90s                     ; (derived from io_timeout)
dead_witnesses = both                    ; (preset nfs)
errors = fence                           ; (preset nfs)
heartbeat = on                           ; (default)
contended_enter_ticks = 2                ; (default)
ladder = log-only, restart-agent, custom, reboot ; (set at t.conf:4)
hold.log-only = 30s                      ; (derived from io_timeout)
hold.restart-agent = 30s                 ; (derived from io_timeout)
hold.custom = 60s                        ; (set at t.conf:9)
hold.reboot = 30s                        ; (derived from io_timeout)
agent_unit = cloudstack-agent.service    ; (default)
custom_command = /usr/sbin/fence-peer --reason "io dead" ; (set at t.conf:5)
)";

std::string render(std::string_view text) {
    const ConfigResult r = load_config_text(text, "t.conf");
    for (const ConfigError& e : r.errors) ADD_FAILURE() << e.to_string();
    return r.config ? render_effective(*r.config) : std::string();
}

// The rendering without its origin comments.
std::string values_only(const std::string& rendered) {
    std::istringstream in(rendered);
    std::string out;
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        out += line.substr(0, line.find(" ;")) + '\n';
    }
    return out;
}

TEST(RenderEffective, Golden) {
    EXPECT_EQ(render(kConfig), kGolden);
}

TEST(RenderEffective, OutputLoadsBackToTheSameValues) {
    for (std::string_view text : {kConfig, std::string_view("")}) {
        const std::string first = render(text);
        const std::string second = render(first);
        EXPECT_EQ(values_only(first), values_only(second));
        EXPECT_NE(second.find("(set at t.conf:"), std::string::npos);
    }
}

}  // namespace
}  // namespace iohealth
