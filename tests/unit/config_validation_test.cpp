// One row per validation rule: a bad configuration and the exact errors it must produce.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config.h"

namespace iohealth {
namespace {

std::vector<std::string> errors_of(std::string_view text) {
    const ConfigResult r = load_config_text(text, "t.conf");
    std::vector<std::string> out;
    for (const ConfigError& e : r.errors) out.push_back(e.to_string());
    EXPECT_EQ(r.config.has_value(), out.empty());
    return out;
}

std::vector<std::string> warnings_of(std::string_view text) {
    const ConfigResult r = load_config_text(text, "t.conf");
    EXPECT_TRUE(r.errors.empty()) << r.errors.front().to_string();
    return r.warnings;
}

struct Row {
    const char* name;
    const char* text;
    std::vector<std::string> errors;
};

class ConfigRule : public testing::TestWithParam<Row> {};

TEST_P(ConfigRule, ReportsExactly) {
    EXPECT_EQ(errors_of(GetParam().text), GetParam().errors);
}

const std::string kActions = "log-only, restart-agent, graceful-reboot, reboot, custom";

INSTANTIATE_TEST_SUITE_P(
    Rules, ConfigRule,
    testing::Values(
        // --- Syntax (libinih plus the line reader)
        Row{"syntax_no_equals",
            "[policy]\nthis is not ini\n",
            {"t.conf:2: expected 'key = value', '[section]' or a comment"}},
        Row{"syntax_every_error_reported",
            "[policy]\nbad one\nio_timeout = 10s\nbad two\n",
            {"t.conf:2: expected 'key = value', '[section]' or a comment",
             "t.conf:4: expected 'key = value', '[section]' or a comment"}},
        Row{"section_without_bracket",
            "[policy\nio_timeout = 10x\n",
            {"t.conf:1: section header without ']'"}},
        Row{"continuation_line",
            "[policy]\nio_timeout = 10s\n  20s\n",
            {"t.conf:3: indented line continues the previous value; write each value on one "
             "line"}},
        Row{"text_after_section_header",
            "[policy] ladder = log-only\n",
            {"t.conf:1: text after the section header's ']'; write each key on a line of its "
             "own"}},
        Row{"cr_only_line_endings",
            "[policy]\rladder = log-only\r",
            {"t.conf:1: carriage return without a line feed (CR-only or mixed line endings); "
             "lines must end in LF or CRLF"}},
        Row{"cr_mixed_with_lf_line_endings",
            "[policy]\nio_timeout = 12s\rladder = log-only\nslow_io = 1s\r\n",
            {"t.conf:2: carriage return without a line feed (CR-only or mixed line endings); "
             "lines must end in LF or CRLF"}},
        Row{"key_outside_section",
            "io_timeout = 10s\n",
            {"t.conf:1: io_timeout: key outside of any section"}},
        Row{"missing_key_name",
            "[policy]\n= 10s\n",
            {"t.conf:2: [policy] missing key name before '='"}},
        // --- Sections and keys
        Row{"unknown_section",
            "[policyy]\nio_timeout = 10s\n",
            {"t.conf:1: [policyy] unknown section (expected [daemon], [libvirt], [cloudstack], "
             "[policy] or [path NAME])"}},
        Row{"unknown_key",
            "[policy]\nio_timout = 10s\n",
            {"t.conf:2: [policy] io_timout: unknown key"}},
        Row{"daemon_key_in_policy",
            "[policy]\nmode = armed\n",
            {"t.conf:2: [policy] mode: not allowed here (it belongs in [daemon])"}},
        Row{"path_key_in_policy",
            "[policy]\ndevice = /dev/sda\n",
            {"t.conf:2: [policy] device: not allowed here (it belongs in [path NAME])"}},
        Row{"policy_key_in_daemon",
            "[daemon]\nio_timeout = 10s\n",
            {"t.conf:2: [daemon] io_timeout: not allowed here (it belongs in [policy] or [path "
             "NAME])"}},
        // --- Values
        Row{"malformed_duration",
            "[policy]\nio_timeout = 10x\n",
            {"t.conf:2: [policy] io_timeout: malformed duration '10x' (expected a number and a "
             "unit: us, ms, s, m, h; e.g. 500ms or 10s)"}},
        Row{"duration_without_unit",
            "[policy]\nio_timeout = 10\n",
            {"t.conf:2: [policy] io_timeout: duration '10' has no unit (write 10s or 10ms)"}},
        Row{"bad_witnesses",
            "[policy]\ndead_witnesses = all\n",
            {"t.conf:2: [policy] dead_witnesses: unknown value 'all' (expected both or either)"}},
        Row{"bad_errors",
            "[policy]\nerrors = panic\n",
            {"t.conf:2: [policy] errors: unknown value 'panic' (expected fence or degrade)"}},
        Row{"bad_boolean",
            "[policy]\nheartbeat = maybe\n",
            {"t.conf:2: [policy] heartbeat: 'maybe' is not a boolean (expected yes|no, on|off, "
             "true|false)"}},
        Row{"bad_mode",
            "[daemon]\nmode = yolo\n",
            {"t.conf:2: [daemon] mode: unknown mode 'yolo' (expected dry-run, armed or "
             "disarmed)"}},
        Row{"tick_too_long",
            "[daemon]\ntick = 20s\n",
            {"t.conf:2: [daemon] tick: tick (20s) must be between 100ms and 10s"}},
        Row{"tick_too_short",
            "[daemon]\ntick = 50ms\n",
            {"t.conf:2: [daemon] tick: tick (50ms) must be between 100ms and 10s"}},
        Row{"contended_enter_ticks_zero",
            "[policy]\ncontended_enter_ticks = 0\n",
            {"t.conf:2: [policy] contended_enter_ticks: '0' is not an integer >= 1"}},
        Row{"record_relative",
            "[daemon]\nrecord = evidence.rec\n",
            {"t.conf:2: [daemon] record: 'evidence.rec' is not an absolute path"}},
        Row{"libvirt_uri_without_scheme",
            "[libvirt]\nuri = /var/run/libvirt/libvirt-sock\n",
            {"t.conf:2: [libvirt] uri: '/var/run/libvirt/libvirt-sock' is not a libvirt URI "
             "(expected driver://[host]/path, e.g. qemu:///system; empty = no VM tracking)"}},
        Row{"libvirt_uri_in_daemon",
            "[daemon]\nuri = qemu:///system\n",
            {"t.conf:2: [daemon] uri: not allowed here (it belongs in [libvirt])"}},
        Row{"daemon_key_in_libvirt",
            "[libvirt]\nmode = armed\n",
            {"t.conf:2: [libvirt] mode: not allowed here (it belongs in [daemon])"}},
        Row{"agent_properties_relative",
            "[cloudstack]\nagent_properties = agent.properties\n",
            {"t.conf:2: [cloudstack] agent_properties: 'agent.properties' is not an absolute "
             "path"}},
        Row{"agent_properties_in_daemon",
            "[daemon]\nagent_properties = /etc/cloudstack/agent/agent.properties\n",
            {"t.conf:2: [daemon] agent_properties: not allowed here (it belongs in "
             "[cloudstack])"}},
        Row{"cloudstack_key_unknown",
            "[cloudstack]\nfence_action = reboot\n",
            {"t.conf:2: [cloudstack] fence_action: unknown key"}},
        Row{"agent_properties_a_directory",
            "[cloudstack]\nagent_properties = /tmp\n",
            {"t.conf:2: [cloudstack] agent_properties: '/tmp' is a directory, not the agent's "
             "agent.properties"}},
        Row{"admin_group_not_a_group_name",
            "[daemon]\nadmin_group = Storage Ops\n",
            {"t.conf:2: [daemon] admin_group: 'Storage Ops' is not a group name "
             "([a-z_][a-z0-9_-]*, at most 32 characters; empty = root only)"}},
        Row{"admin_group_starts_with_a_digit",
            "[daemon]\nadmin_group = 1ops\n",
            {"t.conf:2: [daemon] admin_group: '1ops' is not a group name "
             "([a-z_][a-z0-9_-]*, at most 32 characters; empty = root only)"}},
        Row{"agent_unit_not_a_unit",
            "[policy]\nagent_unit = a b.service\n",
            {"t.conf:2: [policy] agent_unit: 'a b.service' is not a systemd unit name"}},
        // --- Ladder
        Row{"ladder_unknown_action",
            "[policy]\nladder = log-only, explode\n",
            {"t.conf:2: [policy] ladder: unknown action 'explode' in ladder (expected " + kActions +
             ")"}},
        Row{"ladder_empty",
            "[policy]\nladder =\n",
            {"t.conf:2: [policy] ladder: ladder is empty (it needs at least log-only)"}},
        Row{"ladder_empty_step",
            "[policy]\nladder = log-only,,reboot\n",
            {"t.conf:2: [policy] ladder: empty step in ladder (two commas, or a comma at an "
             "end)"}},
        Row{"ladder_duplicate",
            "[policy]\nladder = log-only, restart-agent, log-only\n",
            {"t.conf:2: [policy] ladder: action 'log-only' appears twice in ladder"}},
        Row{"ladder_reboot_not_last",
            "[policy]\nladder = log-only, reboot, restart-agent\n",
            {"t.conf:2: [policy] ladder: 'reboot' must be the last step of the ladder: nothing "
             "runs after a sysrq reboot"}},
        Row{"ladder_custom_without_command",
            "[policy]\nladder = log-only, custom\n",
            {"t.conf:2: [policy] ladder: the ladder has 'custom' but custom_command is not "
             "set"}},
        Row{"ladder_restart_agent_without_unit",
            "[policy]\nagent_unit =\n",
            {"t.conf:2: [policy] agent_unit: the ladder has 'restart-agent' but agent_unit is "
             "empty"}},
        Row{"hold_unknown_action",
            "[policy]\nhold.nuke = 1s\n",
            {"t.conf:2: [policy] hold.nuke: unknown action 'nuke' in 'hold.nuke' (expected " +
             kActions + ")"}},
        Row{"custom_command_relative",
            "[policy]\ncustom_command = fence now\n",
            {"t.conf:2: [policy] custom_command: custom_command must start with an absolute "
             "path (no shell, no PATH lookup), got 'fence'"}},
        Row{"custom_command_unterminated_quote",
            "[policy]\ncustom_command = /bin/x \"a b\n",
            {"t.conf:2: [policy] custom_command: unterminated double quote in '/bin/x \"a b'"}},
        // --- Timings against the tick
        Row{"io_timeout_below_two_ticks",
            "[policy]\nio_timeout = 1500ms\nprobe_interval = 1s\nstall_after = 2s\n"
            "recover_after = 1s\n",
            {"t.conf:2: [policy] io_timeout: io_timeout (1.500s) must be at least twice the "
             "tick (1s)"}},
        Row{"tick_named_when_only_tick_is_set",
            "[daemon]\ntick = 6s\n",
            {"t.conf:2: [daemon] tick: io_timeout (10s) must be at least twice the tick (6s)",
             "t.conf:2: [daemon] tick: stall_after (5s) must be at least twice the tick (6s): one "
             "late sample would look like a stall",
             "t.conf:2: [daemon] tick: recover_after (5s) must be at least the tick (6s)"}},
        Row{"stall_below_two_ticks",
            "[policy]\nprobe_interval = 1s\nstall_after = 1500ms\n",
            {"t.conf:3: [policy] stall_after: stall_after (1.500s) must be at least twice the "
             "tick (1s): one late sample would look like a stall"}},
        Row{"both_derived_names_io_timeout",
            "[policy]\nio_timeout = 3s\n",
            {"t.conf:2: [policy] io_timeout: stall_after (1.500s) must be at least twice the "
             "tick (1s): one late sample would look like a stall"}},
        Row{"recover_below_tick",
            "[policy]\nrecover_after = 500ms\n",
            {"t.conf:2: [policy] recover_after: recover_after (500ms) must be at least the tick "
             "(1s)"}},
        Row{"graceful_deadline_below_tick",
            "[policy]\ngraceful_deadline = 500ms\n",
            {"t.conf:2: [policy] graceful_deadline: graceful_deadline (500ms) must be at least "
             "the tick (1s)"}},
        Row{"custom_timeout_below_tick",
            "[policy]\ncustom_timeout = 0s\n",
            {"t.conf:2: [policy] custom_timeout: custom_timeout (0s) must be at least the tick "
             "(1s)"}},
        Row{"probe_interval_zero",
            "[policy]\nprobe_interval = 0s\n",
            {"t.conf:2: [policy] probe_interval: probe_interval must be greater than 0"}},
        Row{"slow_io_zero",
            "[policy]\nslow_io = 0ms\n",
            {"t.conf:2: [policy] slow_io: slow_io must be greater than 0"}},
        // --- Order of the thresholds
        Row{"stall_not_above_probe",
            "[policy]\nprobe_interval = 5s\n",
            {"t.conf:2: [policy] probe_interval: stall_after (5s) must be longer than "
             "probe_interval (5s): a healthy heartbeat cadence would look like a stall"}},
        Row{"slow_not_below_stall",
            "[policy]\nslow_io = 5s\n",
            {"t.conf:2: [policy] slow_io: slow_io (5s) must be shorter than stall_after (5s)"}},
        Row{"warn_below_stall",
            "[policy]\nwarn_after = 4s\n",
            {"t.conf:2: [policy] warn_after: warn_after (4s) must not be shorter than "
             "stall_after (5s)"}},
        Row{"warn_not_below_dead",
            "[policy]\nwarn_after = 25s\n",
            {"t.conf:2: [policy] warn_after: warn_after (25s) must be shorter than dead_after "
             "(25s): the warning must come before the fence"}},
        // dead <= stall always breaks warn's place between them too.
        Row{"dead_not_above_stall",
            "[policy]\ndead_after = 5s\n",
            {"t.conf:2: [policy] dead_after: dead_after (5s) must be longer than stall_after "
             "(5s): dead deadline shorter than the stall threshold",
             "t.conf:2: [policy] dead_after: warn_after (20s) must be shorter than dead_after "
             "(5s): the warning must come before the fence",
             "t.conf:2: [policy] dead_after: dead_after (5s) must be longer than io_timeout "
             "(10s): one slow I/O would look like a dead path"}},
        Row{"dead_not_above_io_timeout",
            "[policy]\nio_timeout = 12s\nwarn_after = 11s\ndead_after = 12s\n",
            {"t.conf:4: [policy] dead_after: dead_after (12s) must be longer than io_timeout "
             "(12s): one slow I/O would look like a dead path"}},
        Row{"policy_value_breaks_rule_only_in_a_path",
            "[policy]\ndead_after = 26s\n[path n]\nmount = /mnt/n\n",
            {"t.conf:2: [policy] dead_after: warn_after (60s) must be shorter than dead_after "
             "(26s): the warning must come before the fence (for [path n])",
             "t.conf:2: [policy] dead_after: dead_after (26s) must be longer than io_timeout "
             "(30s): one slow I/O would look like a dead path (for [path n])"}},
        Row{"policy_error_said_once_for_all_paths",
            "[policy]\nwarn_after = 4s\n[path a]\ndevice = /dev/sda\n[path b]\ndrbd = r0\n",
            {"t.conf:2: [policy] warn_after: warn_after (4s) must not be shorter than "
             "stall_after (5s)"}},
        // --- Witnesses
        Row{"heartbeat_off_with_both",
            "[policy]\nheartbeat = off\n",
            {"t.conf:2: [policy] heartbeat: heartbeat = off with dead_witnesses = both: DEAD "
             "could never be reached"}},
        // --- Paths
        Row{"path_without_target",
            "[path a]\npreset = nfs\n",
            {"t.conf:1: [path a] a path needs one of device, mount or drbd"}},
        Row{"path_with_two_targets",
            "[path a]\ndevice = /dev/sda\nmount = /mnt/a\n",
            {"t.conf:3: [path a] mount: a path has exactly one of device, mount or drbd, and "
             "device is set too"}},
        Row{"path_bad_name",
            "[path a/b]\ndevice = /dev/sda\n",
            {"t.conf:1: [path a/b] bad path name 'a/b' (allowed: letters, digits, '_', '.', "
             "'-')"}},
        Row{"path_missing_name",
            "[path]\ndevice = /dev/sda\n",
            {"t.conf:1: [path] missing path name (write [path NAME])"}},
        Row{"path_device_outside_dev",
            "[path a]\ndevice = sda\n",
            {"t.conf:2: [path a] device: 'sda' is not a device path under /dev/"}},
        Row{"path_mount_relative",
            "[path a]\nmount = mnt/a\n",
            {"t.conf:2: [path a] mount: 'mnt/a' is not an absolute path"}},
        Row{"path_bad_drbd_resource",
            "[path a]\ndrbd = r 0\n",
            {"t.conf:2: [path a] drbd: 'r 0' is not a DRBD resource name ([A-Za-z0-9_.-]+)"}},
        Row{"path_unknown_preset",
            "[path a]\ndevice = /dev/sda\npreset = ceph\n",
            {"t.conf:3: [path a] preset: unknown preset 'ceph' (expected block, drbd or nfs)"}},
        Row{"path_same_target_twice",
            "[path a]\ndevice = /dev/sda\n[path b]\ndevice = /dev/sda\n",
            {"t.conf:4: [path b] device: /dev/sda is already watched by [path a]"}},
        Row{"path_rule_names_path_key",
            "[path a]\ndrbd = r0\nstall_after = 30s\n",
            {"t.conf:3: [path a] stall_after: warn_after (20s) must not be shorter than "
             "stall_after (30s)",
             "t.conf:3: [path a] stall_after: dead_after (25s) must be longer than stall_after "
             "(30s): dead deadline shorter than the stall threshold"}}),
    [](const testing::TestParamInfo<Row>& info) { return std::string(info.param.name); });

// Rows with bytes a string literal cannot hold in a Row.
TEST(ConfigRule, CommentAfterSectionHeaderIsFine) {
    EXPECT_TRUE(
        errors_of("[policy] ; the defaults\n[daemon]  # the daemon\nmode = armed\n").empty());
}

TEST(ConfigRule, CrlfLineEndingsAreReadExactlyEvenMixedWithLf) {
    const ConfigResult r = load_config_text(
        "[policy]\r\nio_timeout = 12s\r\nladder = log-only ; c\r\n[daemon]\nmode = armed\r\n",
        "t.conf");
    ASSERT_TRUE(r.config) << r.errors.front().to_string();
    EXPECT_EQ(r.config->defaults.timings.io_timeout, 12s);
    ASSERT_EQ(r.config->defaults.ladder.size(), 1u);
    EXPECT_EQ(r.config->defaults.ladder[0].action, Action::kLogOnly);
    EXPECT_EQ(r.config->mode, Mode::kArmed);
}

TEST(ConfigRule, NulByteIsAnError) {
    const std::string text("[policy]\nio_timeout = 1\0s\n", 25);
    EXPECT_EQ(errors_of(text), std::vector<std::string>{"t.conf:2: line contains a NUL byte"});
}

TEST(ConfigRule, LineLongerThanInihBufferIsAnError) {
    const std::string text = "[policy]\ncustom_command = /bin/x " + std::string(200, 'a') + "\n";
    EXPECT_EQ(errors_of(text),
              std::vector<std::string>{"t.conf:2: line is longer than 199 characters"});
}

TEST(ConfigRule, LongLineIsFineWhenItsCommentIsWhatMakesItLong) {
    EXPECT_TRUE(errors_of("[policy]\n# " + std::string(300, 'c') + "\nio_timeout = 12s ; " +
                          std::string(300, 'c') + "\n")
                    .empty());
    const ConfigResult r =
        load_config_text("[policy]\nio_timeout = 12s ; " + std::string(300, 'c') + "\n", "t.conf");
    ASSERT_TRUE(r.config);
    EXPECT_EQ(r.config->defaults.timings.io_timeout, 12s);
}

TEST(ConfigRule, ValueThatCannotBeWrittenBackOnOneLineIsAnError) {
    // Each argument is written with 7 characters (\\"x y") but renders with 8 ("\\\x y"):
    // 22 of them fit on the 199-character line read, not on the line written back.
    std::string line = "custom_command = /bin/x";
    for (int i = 0; i < 22; ++i) line += R"( \\"x y")";
    ASSERT_EQ(line.size(), 199u);
    EXPECT_EQ(errors_of("[policy]\n" + line + "\n"),
              std::vector<std::string>{"t.conf:2: [policy] custom_command: too long: written "
                                       "back as 'key = value' it needs 221 characters, more "
                                       "than 199"});
}

TEST(ConfigRule, ErrorsFromSeveralRulesAreAllCollected) {
    EXPECT_EQ(errors_of("[daemon]\nmode = on\n[policy]\nfoo = 1\nladder = reboot, log-only\n"
                        "[bar]\n"),
              (std::vector<std::string>{
                  "t.conf:6: [bar] unknown section (expected [daemon], [libvirt], [cloudstack], "
                  "[policy] or [path NAME])",
                  "t.conf:2: [daemon] mode: unknown mode 'on' (expected dry-run, armed or "
                  "disarmed)",
                  "t.conf:4: [policy] foo: unknown key",
                  "t.conf:5: [policy] ladder: 'reboot' must be the last step of the ladder: "
                  "nothing runs after a sysrq reboot"}));
}

TEST(ConfigError, FormatLeavesOutEmptyParts) {
    EXPECT_EQ((ConfigError{"f", 3, "policy", "k", "m"}.to_string()), "f:3: [policy] k: m");
    EXPECT_EQ((ConfigError{"f", 0, "policy", "k", "m"}.to_string()), "f: [policy] k: m");
    EXPECT_EQ((ConfigError{"f", 3, "", "", "m"}.to_string()), "f:3: m");
}

TEST(ConfigWarning, AgentPropertiesThatDoNotExistYet) {
    EXPECT_EQ(warnings_of("[cloudstack]\nagent_properties = /nonexistent/agent.properties\n"),
              std::vector<std::string>{
                  "t.conf:2: [cloudstack] agent_properties: '/nonexistent/agent.properties' does "
                  "not exist (yet); until it does, a heartbeat-timeout fence runs the configured "
                  "ladder uncut"});
}

TEST(ConfigWarning, ArmedRebootWithEitherWitness) {
    EXPECT_EQ(warnings_of("[daemon]\nmode = armed\n[policy]\ndead_witnesses = either\n"),
              std::vector<std::string>{
                  "t.conf:4: [policy] dead_witnesses: mode = armed, the ladder ends in reboot "
                  "and dead_witnesses = either: a single witness can reboot this host"});
    EXPECT_TRUE(
        warnings_of("[daemon]\nmode = dry-run\n[policy]\ndead_witnesses = either\n").empty());
}

TEST(ConfigWarning, HoldForAnActionOutsideTheLadder) {
    EXPECT_EQ(warnings_of("[policy]\nladder = log-only\nhold.reboot = 1s\n"),
              std::vector<std::string>{
                  "t.conf:3: [policy] hold.reboot: reboot is not in the ladder, ignoring"});
}

TEST(ConfigWarning, DeadlineBeyondTheFenceTarget) {
    EXPECT_EQ(warnings_of("[path a]\ndevice = /dev/sda\nio_timeout = 20s\n"),
              std::vector<std::string>{"t.conf:3: [path a] io_timeout: dead_after (50s) is later "
                                       "than the 30s fence target for block and DRBD paths"});
    EXPECT_TRUE(warnings_of("[path a]\nmount = /mnt/a\nio_timeout = 36s\n").empty());
}

TEST(ConfigWarning, SameKeyTwiceInOneFile) {
    EXPECT_EQ(warnings_of("[policy]\nio_timeout = 10s\nio_timeout = 12s\n"),
              std::vector<std::string>{
                  "t.conf:3: [policy] io_timeout: overrides the value set at line 2"});
}

TEST(ConfigWarning, NothingToMonitor) {
    EXPECT_EQ(warnings_of("[daemon]\ndiscover = no\n"),
              std::vector<std::string>{"t.conf:2: [daemon] discover: no [path] sections and "
                                       "discover = no: nothing will be monitored"});
}

}  // namespace
}  // namespace iohealth
