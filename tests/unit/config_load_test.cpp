// Loading: durations, the derivation from io_timeout, presets, precedence and drop-ins.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "config/config.h"
#include "config/config_file.h"
#include "config/duration.h"
#include "config/presets.h"
#include "config/timings.h"

namespace iohealth {
namespace {

namespace fs = std::filesystem;

DaemonConfig load_ok(std::string_view text) {
    ConfigResult r = load_config_text(text, "t.conf");
    for (const ConfigError& e : r.errors) ADD_FAILURE() << e.to_string();
    return r.config.value_or(DaemonConfig{});
}

const PathConfig& path(const DaemonConfig& c, std::string_view name) {
    for (const PathConfig& p : c.paths)
        if (p.name == name) return p;
    throw std::runtime_error("no such path");
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// --- Durations

TEST(ParseDuration, AcceptsEveryUnitAndFractions) {
    const std::pair<const char*, Duration> rows[] = {
        {"250us", 250us}, {"500ms", 500ms},  {"10s", 10s}, {"5m", 5min},   {"1h", 1h},
        {"1.5s", 1500ms}, {"0.25ms", 250us}, {"0s", 0s},   {"168h", 168h},
    };
    for (const auto& [text, expected] : rows) {
        const DurationParse d = parse_duration(text);
        EXPECT_EQ(d.value, expected) << text << ": " << d.error;
    }
}

TEST(ParseDuration, RefusesWithAReason) {
    const std::pair<const char*, const char*> rows[] = {
        {"10", "duration '10' has no unit (write 10s or 10ms)"},
        {"",
         "malformed duration '' (expected a number and a unit: us, ms, s, m, h; e.g. 500ms "
         "or 10s)"},
        {"-1s",
         "malformed duration '-1s' (expected a number and a unit: us, ms, s, m, h; e.g. "
         "500ms or 10s)"},
        {"10 s",
         "malformed duration '10 s' (expected a number and a unit: us, ms, s, m, h; e.g. "
         "500ms or 10s)"},
        {"1.s",
         "malformed duration '1.s' (expected a number and a unit: us, ms, s, m, h; e.g. "
         "500ms or 10s)"},
        {"1.0001ms", "duration '1.0001ms' is finer than a microsecond"},
        {"169h", "duration '169h' exceeds the maximum of 168h"},
        {"99999999999999h",
         "malformed duration '99999999999999h' (expected a number and a "
         "unit: us, ms, s, m, h; e.g. 500ms or 10s)"},
    };
    for (const auto& [text, error] : rows) {
        const DurationParse d = parse_duration(text);
        EXPECT_FALSE(d.value) << text;
        EXPECT_EQ(d.error, error);
    }
}

// --- Derivation

TEST(DeriveTimings, DefaultIoTimeoutGivesPolicyHeaderDefaults) {
    const Timings derived = derive_timings(10s, 1s);
    const Timings header;
    EXPECT_EQ(derived.io_timeout, header.io_timeout);
    for (const auto& [key, member] : kDerivedTimings)
        EXPECT_EQ(derived.*member, header.*member) << key;
}

TEST(DeriveTimings, ScalesWithIoTimeout) {
    const Timings t = derive_timings(30s, 500ms);
    EXPECT_EQ(t.tick, 500ms);
    EXPECT_EQ(t.probe_interval, 6s);
    EXPECT_EQ(t.slow_io, 600ms);
    EXPECT_EQ(t.stall_after, 15s);
    EXPECT_EQ(t.warn_after, 60s);
    EXPECT_EQ(t.dead_after, 75s);
    EXPECT_EQ(t.graceful_deadline, 120s);
    EXPECT_EQ(t.recover_after, 15s);
    EXPECT_EQ(t.step_hold, 30s);
    EXPECT_EQ(t.repeat_interval, 900s);
    EXPECT_EQ(t.custom_timeout, 90s);
}

TEST(LoadConfig, EmptyTextGivesTheBuiltInDefaults) {
    const DaemonConfig c = load_ok("");
    EXPECT_EQ(c.mode, Mode::kDryRun);
    EXPECT_EQ(c.tick, 1s);
    EXPECT_TRUE(c.discover_block_devices);
    EXPECT_EQ(c.sysrq_path, "/proc/sysrq-trigger");
    EXPECT_EQ(c.admin_group, "iohealth");
    EXPECT_EQ(c.libvirt_uri, "qemu:///system");
    EXPECT_TRUE(c.cloudstack_agent_properties.empty());
    EXPECT_TRUE(c.record_path.empty());
    EXPECT_TRUE(c.paths.empty());
    const PathPolicy& p = c.defaults;
    EXPECT_EQ(p.timings.dead_after, 25s);
    EXPECT_EQ(p.witnesses, DeadWitnesses::kBoth);
    EXPECT_EQ(p.errors, ErrorPolicy::kFence);
    EXPECT_TRUE(p.heartbeat);
    EXPECT_EQ(p.contended_enter_ticks, 2);
    EXPECT_EQ(p.agent_unit, "cloudstack-agent.service");
    // Every rung, holds from step_hold except the graceful reboot's own deadline.
    EXPECT_EQ(p.ladder, (std::vector<LadderStep>{{Action::kLogOnly, 10s},
                                                 {Action::kRestartAgent, 10s},
                                                 {Action::kGracefulReboot, 40s},
                                                 {Action::kReboot, 10s}}));
}

TEST(LoadConfig, ExplicitValuesBeatDerivedOnesAndTheRestFollowIoTimeout) {
    const DaemonConfig c = load_ok(
        "[daemon]\ntick = 500ms\n[policy]\nio_timeout = 8s\nstall_after = 3s\n"
        "hold.restart-agent = 2s\nladder = log-only, restart-agent, graceful-reboot\n");
    const Timings& t = c.defaults.timings;
    EXPECT_EQ(t.tick, 500ms);
    EXPECT_EQ(t.io_timeout, 8s);
    EXPECT_EQ(t.stall_after, 3s);
    EXPECT_EQ(t.dead_after, 20s);
    EXPECT_EQ(t.probe_interval, 1600ms);
    EXPECT_EQ(c.defaults.ladder, (std::vector<LadderStep>{{Action::kLogOnly, 8s},
                                                          {Action::kRestartAgent, 2s},
                                                          {Action::kGracefulReboot, 32s}}));
}

TEST(LoadConfig, DerivedValuesFollowThePathsOwnIoTimeout) {
    const DaemonConfig c =
        load_ok("[policy]\nstall_after = 4s\n[path a]\ndevice = /dev/sda\nio_timeout = 12s\n");
    const Timings& t = path(c, "a").policy.timings;
    EXPECT_EQ(t.stall_after, 4s);  // explicit in [policy]
    EXPECT_EQ(t.dead_after, 30s);  // 5/2 x the path's 12 s
    EXPECT_EQ(t.warn_after, 24s);
    EXPECT_EQ(c.defaults.timings.dead_after, 25s);  // [policy] itself keeps T = 10 s
}

TEST(LoadConfig, EmptyAdminGroupMeansRootOnly) {
    EXPECT_EQ(load_ok("[daemon]\nadmin_group =\n").admin_group, "");
}

TEST(LoadConfig, LibvirtUriIsAnyDriverUriOrEmptyForNoVmTracking) {
    EXPECT_EQ(load_ok("[libvirt]\nuri = qemu+ssh://root@kvm1/system?keyfile=/k\n").libvirt_uri,
              "qemu+ssh://root@kvm1/system?keyfile=/k");
    EXPECT_EQ(load_ok("[libvirt]\nuri = test:///tmp/node.xml\n").libvirt_uri,
              "test:///tmp/node.xml");
    EXPECT_EQ(load_ok("[libvirt]\nuri =\n").libvirt_uri, "");
}

TEST(LoadConfig, CloudstackAgentProperties) {
    const fs::path file = fs::temp_directory_path() / "iohealth-config-test-agent.properties";
    std::ofstream(file) << "kvm.heartbeat.fence.action=graceful-reboot\n";
    ConfigResult r =
        load_config_text("[cloudstack]\nagent_properties = " + file.string() + "\n", "t.conf");
    fs::remove(file);
    ASSERT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0].to_string());
    EXPECT_TRUE(r.warnings.empty());
    EXPECT_EQ(r.config->cloudstack_agent_properties, file.string());
    EXPECT_EQ(r.config->origins["cloudstack"]["agent_properties"].line, 2);
}

TEST(LoadConfig, CustomCommandIsSplitWithoutAShell) {
    const DaemonConfig c = load_ok(
        "[policy]\nladder = log-only, custom\n"
        "custom_command = /usr/bin/fence --why \"no progress\" a\"b c\"d \"q\\\"\\\\\" $HOME\n");
    EXPECT_EQ(c.defaults.custom_command,
              (std::vector<std::string>{"/usr/bin/fence", "--why", "no progress", "ab cd", "q\"\\",
                                        "$HOME"}));
}

TEST(LoadConfig, ValuesOfEveryKind) {
    const DaemonConfig c = load_ok(
        "[daemon]\nmode = armed\nrecord = /var/lib/iohealth/e.rec\ndiscover = no\n"
        "sysrq_trigger = /tmp/sysrq\nadmin_group = _storage-ops2\n"
        "watchdog_device = /dev/watchdog0\n"
        "[policy]\ndead_witnesses = either\nerrors = degrade\nheartbeat = off\n"
        "contended_enter_ticks = 3\nagent_unit = libvirtd.service\n"
        "[path a]\ndevice = /dev/sda\n");
    EXPECT_EQ(c.mode, Mode::kArmed);
    EXPECT_EQ(c.record_path, "/var/lib/iohealth/e.rec");
    EXPECT_FALSE(c.discover_block_devices);
    EXPECT_EQ(c.sysrq_path, "/tmp/sysrq");
    EXPECT_EQ(c.admin_group, "_storage-ops2");
    EXPECT_EQ(c.watchdog_device, "/dev/watchdog0");
    EXPECT_EQ(c.defaults.witnesses, DeadWitnesses::kEither);
    EXPECT_EQ(c.defaults.errors, ErrorPolicy::kDegrade);
    EXPECT_FALSE(c.defaults.heartbeat);
    EXPECT_EQ(c.defaults.contended_enter_ticks, 3);
    EXPECT_EQ(c.defaults.agent_unit, "libvirtd.service");
    EXPECT_EQ(path(c, "a").policy.agent_unit, "libvirtd.service");
}

// --- Presets and precedence

TEST(Presets, EachPresetLoadsCleanAndMeetsItsFenceTarget) {
    const DaemonConfig c =
        load_ok("[path b]\ndevice = /dev/sda\n[path d]\ndrbd = r0\n[path n]\nmount = /mnt/n\n");
    EXPECT_EQ(path(c, "b").preset, "block");
    EXPECT_EQ(path(c, "d").preset, "drbd");
    EXPECT_EQ(path(c, "n").preset, "nfs");
    EXPECT_EQ(path(c, "b").policy.timings.dead_after, 25s);  // <= 30 s target
    EXPECT_EQ(path(c, "d").policy.timings.dead_after, 25s);  // <= 30 s target
    EXPECT_EQ(path(c, "n").policy.timings.io_timeout, 30s);
    EXPECT_EQ(path(c, "n").policy.timings.dead_after, 75s);  // <= 90 s target
    EXPECT_EQ(path(c, "n").policy.timings.graceful_deadline, 120s);
    EXPECT_EQ(path(c, "n").kind, PathKind::kMount);
    EXPECT_EQ(path(c, "n").target, "/mnt/n");
}

TEST(Presets, EmbeddedTextsAreThePolicyFiles) {
    for (const char* name : {"block", "drbd", "nfs"}) {
        const fs::path file =
            fs::path(IOHEALTH_SOURCE_DIR) / "policy/presets" / (std::string(name) + ".conf");
        EXPECT_EQ(preset_text(name), read_file(file)) << name;
    }
    EXPECT_FALSE(preset_text("ceph"));
}

TEST(Presets, PrecedenceIsPresetThenPolicyThenPath) {
    const char* path_nfs = "[path n]\nmount = /mnt/n\n";
    EXPECT_EQ(path(load_ok(path_nfs), "n").policy.timings.io_timeout, 30s);
    EXPECT_EQ(path(load_ok(std::string("[policy]\nio_timeout = 20s\n") + path_nfs), "n")
                  .policy.timings.io_timeout,
              20s);
    EXPECT_EQ(
        path(load_ok(std::string("[policy]\nio_timeout = 20s\n") + path_nfs + "io_timeout = 40s\n"),
             "n")
            .policy.timings.io_timeout,
        40s);
    // A mount on a local disk picks the block preset.
    EXPECT_EQ(
        path(load_ok("[path m]\nmount = /srv\npreset = block\n"), "m").policy.timings.dead_after,
        25s);
}

TEST(LoadConfig, InstalledDefaultConfigIsValidAndDryRun) {
    ConfigResult r = load_config(fs::path(IOHEALTH_SOURCE_DIR) / "policy/iohealthd.conf");
    for (const ConfigError& e : r.errors) ADD_FAILURE() << e.to_string();
    EXPECT_TRUE(r.warnings.empty());
    ASSERT_TRUE(r.config);
    EXPECT_EQ(r.config->mode, Mode::kDryRun);
    EXPECT_TRUE(r.config->paths.empty());
}

// --- Files and drop-ins

class DropIns : public testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/iohealth-config-XXXXXX";
        ASSERT_TRUE(mkdtemp(tmpl));
        dir_ = tmpl;
        main_ = dir_ / "iohealthd.conf";
        fs::create_directory(dir_ / "iohealthd.conf.d");
    }
    void TearDown() override { fs::remove_all(dir_); }
    void write(const fs::path& relative, std::string_view text) {
        std::ofstream(dir_ / relative) << text;
    }

    fs::path dir_;
    fs::path main_;
};

TEST_F(DropIns, LaterFilesWinKeyByKeyInLexicalOrder) {
    write("iohealthd.conf", "[daemon]\nmode = armed\n[policy]\nio_timeout = 10s\nslow_io = 1s\n");
    write("iohealthd.conf.d/9-late.conf", "[policy]\nio_timeout = 14s\n");
    write("iohealthd.conf.d/10-early.conf", "[policy]\nio_timeout = 12s\nerrors = degrade\n");
    write("iohealthd.conf.d/README", "not ini at all\n");
    write("iohealthd.conf.d/50-off.conf.disabled", "[policy]\nio_timeout = 99s\n");
    const ConfigResult r = load_config(main_);
    ASSERT_TRUE(r.config) << r.errors.front().to_string();
    const PathPolicy& p = r.config->defaults;
    EXPECT_EQ(p.timings.io_timeout, 14s);        // "9-late" sorts after "10-early"
    EXPECT_EQ(p.errors, ErrorPolicy::kDegrade);  // only set in 10-early
    EXPECT_EQ(p.timings.slow_io, 1s);            // only set in the main file
    EXPECT_EQ(r.config->mode, Mode::kArmed);
    const ValueOrigin& o = r.config->origins.at("policy").at("io_timeout");
    EXPECT_EQ(o.file, (dir_ / "iohealthd.conf.d/9-late.conf").string());
    EXPECT_EQ(o.line, 2);
}

TEST_F(DropIns, ADropInExtendsAPathOfTheMainFile) {
    write("iohealthd.conf", "[path a]\ndrbd = r0\n");
    write("iohealthd.conf.d/a.conf", "[path a]\nio_timeout = 8s\n");
    const ConfigResult r = load_config(main_);
    ASSERT_TRUE(r.config) << r.errors.front().to_string();
    ASSERT_EQ(r.config->paths.size(), 1u);
    EXPECT_EQ(r.config->paths[0].policy.timings.io_timeout, 8s);
}

TEST_F(DropIns, ErrorsNameTheDropInFile) {
    write("iohealthd.conf", "[policy]\nio_timeout = 10s\n");
    write("iohealthd.conf.d/a.conf", "[policy]\n\nladder = log-only, custom\n");
    const ConfigResult r = load_config(main_);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].to_string(),
              (dir_ / "iohealthd.conf.d/a.conf").string() +
                  ":3: [policy] ladder: the ladder has 'custom' but custom_command is not set");
}

TEST_F(DropIns, ExplicitDropInDirectory) {
    write("iohealthd.conf", "[policy]\nio_timeout = 10s\n");
    fs::create_directory(dir_ / "other");
    write("other/x.conf", "[policy]\nio_timeout = 11s\n");
    const ConfigResult r = load_config(main_, dir_ / "other");
    ASSERT_TRUE(r.config);
    EXPECT_EQ(r.config->defaults.timings.io_timeout, 11s);
}

TEST_F(DropIns, MissingMainFileIsAnError) {
    const ConfigResult r = load_config(dir_ / "nope.conf");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].to_string(),
              (dir_ / "nope.conf").string() + ": cannot read: No such file or directory");
}

TEST_F(DropIns, DirectoryAsMainFileIsAnError) {
    const ConfigResult r = load_config(dir_ / "iohealthd.conf.d");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].to_string(),
              (dir_ / "iohealthd.conf.d").string() + ": not a regular file (a directory)");
}

// Each is refused without reading a byte: a FIFO would block, /dev/zero never ends.
TEST_F(DropIns, MainFileThatIsNotARegularFileIsRefused) {
    ASSERT_EQ(mkfifo((dir_ / "fifo.conf").c_str(), 0600), 0);
    const ConfigResult fifo = load_config(dir_ / "fifo.conf");
    ASSERT_EQ(fifo.errors.size(), 1u);
    EXPECT_EQ(fifo.errors[0].to_string(),
              (dir_ / "fifo.conf").string() + ": not a regular file (a FIFO)");
    const ConfigResult zero = load_config("/dev/zero", dir_ / "none");
    ASSERT_EQ(zero.errors.size(), 1u);
    EXPECT_EQ(zero.errors[0].to_string(), "/dev/zero: not a regular file (a character device)");
}

TEST_F(DropIns, FileOverTheSizeLimitIsRefused) {
    write("iohealthd.conf", "[policy]\n" + std::string(kMaxConfigFileBytes, ';') + "\n");
    const ConfigResult r = load_config(main_);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].to_string(),
              main_.string() + ": larger than 1024 KiB: not a configuration file");
}

TEST_F(DropIns, DropInsThatAreNotRegularFilesAreRefusedByName) {
    write("iohealthd.conf", "[policy]\nio_timeout = 10s\n");
    ASSERT_EQ(mkfifo((dir_ / "iohealthd.conf.d/a-fifo.conf").c_str(), 0600), 0);
    fs::create_symlink(dir_ / "gone.conf", dir_ / "iohealthd.conf.d/b-dangling.conf");
    fs::create_directory(dir_ / "iohealthd.conf.d/c-dir.conf");
    write("iohealthd.conf.d/d-ok.conf", "[policy]\nio_timeout = 11s\n");
    fs::create_symlink(dir_ / "iohealthd.conf.d/d-ok.conf", dir_ / "iohealthd.conf.d/e-link.conf");
    const ConfigResult r = load_config(main_);
    std::vector<std::string> errors;
    for (const ConfigError& e : r.errors) errors.push_back(e.to_string());
    const std::string d = (dir_ / "iohealthd.conf.d/").string();
    EXPECT_EQ(errors, (std::vector<std::string>{
                          d + "a-fifo.conf: not a regular file (a FIFO)",
                          d + "b-dangling.conf: cannot read: dangling symbolic link to '" +
                              (dir_ / "gone.conf").string() + "'",
                          d + "c-dir.conf: not a regular file (a directory)"}));
    EXPECT_FALSE(r.config);
}

TEST_F(DropIns, SymbolicLinkToARegularFileIsRead) {
    write("real.conf", "[policy]\nio_timeout = 13s\n");
    fs::create_symlink(dir_ / "real.conf", dir_ / "iohealthd.conf.d/x.conf");
    write("iohealthd.conf", "");
    const ConfigResult r = load_config(main_);
    ASSERT_TRUE(r.config) << r.errors.front().to_string();
    EXPECT_EQ(r.config->defaults.timings.io_timeout, 13s);
}

TEST_F(DropIns, MissingDropInDirectoryIsFine) {
    write("iohealthd.conf", "[daemon]\nmode = disarmed\n");
    fs::remove(dir_ / "iohealthd.conf.d");
    const ConfigResult r = load_config(main_);
    ASSERT_TRUE(r.config);
    EXPECT_EQ(r.config->mode, Mode::kDisarmed);
}

}  // namespace
}  // namespace iohealth
