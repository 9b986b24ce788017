// The executors that need no bus: sysrq (its trigger pointed at a plain file), the custom
// command (real children), the hardware watchdog (a plain file), dry-run, log-only, the router.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include "actuators/custom_command.h"
#include "actuators/dry_run.h"
#include "actuators/hardware_watchdog.h"
#include "actuators/router.h"
#include "actuators/sysrq_reboot.h"

namespace iohealth {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

ActionResult run(Executor& executor, const ActionRequest& request) {
    std::promise<ActionResult> promise;
    auto future = promise.get_future();
    executor.execute(request, [&promise](ActionResult r) { promise.set_value(std::move(r)); });
    EXPECT_EQ(future.wait_for(30s), std::future_status::ready);
    return future.get();
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

class TempDir {
  public:
    TempDir() {
        char tmpl[] = "/tmp/iohealth-act-XXXXXX";
        path_ = mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path_); }
    fs::path operator/(const std::string& name) const { return path_ / name; }

  private:
    fs::path path_;
};

ActionRequest request(Action action, bool dry_run = false) {
    ActionRequest r;
    r.id = 3;
    r.path = "loop-a";
    r.action = action;
    r.step = 2;
    r.dry_run = dry_run;
    r.reason = "no progress for 25s";
    r.agent_unit = "cloudstack-agent.service";
    r.custom_timeout = 5s;
    return r;
}

// ---- sysrq reboot ----

TEST(SysrqReboot, RecordsFirstThenWritesBToTheTriggerOpenedAtStartup) {
    TempDir dir;
    std::ofstream(dir / "trigger").close();
    std::ofstream(dir / "kmsg").close();
    std::ofstream(dir / "sysrq") << "438\n";  // Debian's default: bit 128 (reboot) is set
    std::vector<std::string> order;
    SysrqRebootOptions options;
    options.trigger_path = dir / "trigger";
    options.sysctl_path = dir / "sysrq";
    options.kmsg_path = dir / "kmsg";
    options.record_first = [&](const ActionRequest& r) {
        // Nothing is written yet when the record hook runs.
        order.push_back("record " + r.path + " trigger='" + slurp(dir / "trigger") + "' kmsg='" +
                        slurp(dir / "kmsg") + "'");
    };
    SysrqRebootExecutor executor(options);
    EXPECT_EQ(executor.open_error(), "");
    EXPECT_EQ(executor.sysctl_warning(), std::nullopt);
    // The file is replaced after start-up: the executor keeps writing to the fd it opened.
    fs::rename(dir / "trigger", dir / "trigger.opened");
    std::ofstream(dir / "trigger").close();

    const auto result = run(executor, request(Action::kReboot));
    EXPECT_TRUE(result.ok) << result.detail;
    EXPECT_EQ(order, std::vector<std::string>{"record loop-a trigger='' kmsg=''"});
    // The kernel log has the reason too (it reaches the console before the reset).
    EXPECT_EQ(slurp(dir / "kmsg")
                  .rfind("<2>iohealthd: rebooting now through sysrq: path loop-a step ", 0),
              0u)
        << slurp(dir / "kmsg");
    EXPECT_EQ(slurp(dir / "trigger.opened"), "b");
    EXPECT_EQ(slurp(dir / "trigger"), "");
}

TEST(SysrqReboot, ReportsATriggerThatCannotBeOpened) {
    TempDir dir;
    SysrqRebootOptions options;
    options.trigger_path = dir / "missing";
    options.sysctl_path = dir / "missing-sysctl";
    options.kmsg_path = "";
    SysrqRebootExecutor executor(options);
    EXPECT_NE(executor.open_error().find("Failed to open"), std::string::npos);
    ASSERT_TRUE(executor.sysctl_warning().has_value());
    EXPECT_NE(executor.sysctl_warning()->find("cannot read"), std::string::npos);
    const auto result = run(executor, request(Action::kReboot));
    EXPECT_FALSE(result.ok);
    EXPECT_NE(result.detail.find("No such file or directory"), std::string::npos) << result.detail;
}

struct SysctlRow {
    const char* value;
    bool allows_reboot;
};
class SysrqSysctl : public ::testing::TestWithParam<SysctlRow> {};

TEST_P(SysrqSysctl, WarnsUnlessRebootIsEnabled) {
    TempDir dir;
    std::ofstream(dir / "trigger").close();
    std::ofstream(dir / "sysrq") << GetParam().value;
    SysrqRebootOptions options;
    options.trigger_path = dir / "trigger";
    options.sysctl_path = dir / "sysrq";
    options.sync_program = "";
    SysrqRebootExecutor executor(options);
    EXPECT_EQ(executor.sysctl_warning().has_value(), !GetParam().allows_reboot) << GetParam().value;
}

INSTANTIATE_TEST_SUITE_P(Values, SysrqSysctl,
                         ::testing::Values(SysctlRow{"1", true}, SysctlRow{"128", true},
                                           SysctlRow{"438", true}, SysctlRow{"0", false},
                                           SysctlRow{"16", false}, SysctlRow{"176", true}));

TEST(SysrqReboot, DoesNotWaitForAHungSync) {
    TempDir dir;
    std::ofstream(dir / "trigger").close();
    // A "sync" that never returns stands in for sync(2) on dead storage.
    std::ofstream(dir / "hung-sync") << "#!/bin/sh\nexec /bin/sleep 4\n";
    fs::permissions(dir / "hung-sync", fs::perms::owner_all);
    SysrqRebootOptions options;
    options.trigger_path = dir / "trigger";
    options.sysctl_path = dir / "none";
    options.sync_program = dir / "hung-sync";
    options.kmsg_path = "";
    const auto started = std::chrono::steady_clock::now();
    {
        SysrqRebootExecutor executor(options);
        const auto result = run(executor, request(Action::kReboot));
        EXPECT_TRUE(result.ok) << result.detail;
    }
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
    EXPECT_EQ(slurp(dir / "trigger"), "b");
}

// ---- custom command ----

ActionRequest custom(std::vector<std::string> argv, Duration timeout = 5s) {
    auto r = request(Action::kCustom);
    r.custom_command = std::move(argv);
    r.custom_timeout = timeout;
    return r;
}

TEST(CustomCommand, ZeroExitIsSuccess) {
    CustomCommandExecutor executor;
    const auto result = run(executor, custom({"/bin/true"}));
    EXPECT_TRUE(result.ok) << result.detail;
    EXPECT_EQ(result.detail, "'/bin/true' exited with status 0");
}

TEST(CustomCommand, NonZeroExitIsFailureWithItsStatus) {
    CustomCommandExecutor executor;
    const auto result = run(executor, custom({"/bin/false"}));
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.detail, "'/bin/false' exited with status 1");
}

TEST(CustomCommand, FailureCarriesTheCommandsOwnErrorText) {
    CustomCommandExecutor executor;
    const auto result = run(executor, custom({"/bin/ls", "/nonexistent-iohealth"}));
    EXPECT_FALSE(result.ok);
    EXPECT_NE(result.detail.find("exited with status 2: "), std::string::npos) << result.detail;
    EXPECT_NE(result.detail.find("No such file or directory"), std::string::npos) << result.detail;
}

TEST(CustomCommand, TimeoutKillsTheCommand) {
    CustomCommandExecutor executor;
    const auto started = std::chrono::steady_clock::now();
    const auto result = run(executor, custom({"/bin/sleep", "30"}, 300ms));
    EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.detail, "'/bin/sleep' timed out after 300ms and was killed");
}

TEST(CustomCommand, TimeoutKillsTheWholeProcessGroup) {
    TempDir dir;
    // The grandchild would write its marker after 1 s if it survived the kill.
    const std::string script =
        "(/bin/sleep 1; echo alive > " + (dir / "marker").string() + ") & /bin/sleep 30";
    CustomCommandExecutor executor;
    const auto result = run(executor, custom({"/bin/sh", "-c", script}, 200ms));
    EXPECT_FALSE(result.ok);
    std::this_thread::sleep_for(1500ms);
    EXPECT_FALSE(fs::exists(dir / "marker"));
}

TEST(CustomCommand, DeathBySignalIsReported) {
    CustomCommandExecutor executor;
    const auto result = run(executor, custom({"/bin/sh", "-c", "kill -TERM $$"}));
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.detail, "'/bin/sh' was killed by signal 15 (TERM)");
}

TEST(CustomCommand, SeesTheRequestInItsEnvironment) {
    TempDir dir;
    const std::string script =
        "echo \"$IOHEALTH_PATH|$IOHEALTH_STEP|$IOHEALTH_REASON\" > " + (dir / "env").string();
    CustomCommandExecutor executor;
    const auto result = run(executor, custom({"/bin/sh", "-c", script}));
    EXPECT_TRUE(result.ok) << result.detail;
    EXPECT_EQ(slurp(dir / "env"), "loop-a|2|no progress for 25s\n");
}

TEST(CustomCommand, MissingOrRelativeProgramIsAClearError) {
    CustomCommandExecutor executor;
    auto result = run(executor, custom({"/nonexistent/fence"}));
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.detail, "Failed to run '/nonexistent/fence': No such file or directory");
    result = run(executor, custom({"fence.sh"}));
    EXPECT_FALSE(result.ok);
    EXPECT_NE(result.detail.find("not an absolute path"), std::string::npos) << result.detail;
    result = run(executor, custom({}));
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.detail, "Failed to run the custom action: no command configured");
}

// ---- hardware watchdog ----

TEST(HardwareWatchdog, PlainFileIsNotAWatchdogButMagicCloseIsWritten) {
    TempDir dir;
    std::ofstream(dir / "watchdog").close();
    auto opened = HardwareWatchdog::open(dir / "watchdog");
    ASSERT_TRUE(opened) << opened.error();
    auto watchdog = std::move(*opened);
    const auto ping = watchdog->keepalive();
    ASSERT_TRUE(ping.has_value());
    EXPECT_NE(ping->find("Inappropriate ioctl for device"), std::string::npos) << *ping;
    EXPECT_EQ(watchdog->disarm(), std::nullopt);
    EXPECT_EQ(slurp(dir / "watchdog"), "V");
    EXPECT_NE(watchdog->keepalive()->find("already disarmed"), std::string::npos);
    watchdog.reset();
    EXPECT_EQ(slurp(dir / "watchdog"), "V");  // disarmed once only
}

TEST(HardwareWatchdog, MissingDeviceIsAClearError) {
    const auto opened = HardwareWatchdog::open("/nonexistent/watchdog");
    EXPECT_FALSE(opened);
    EXPECT_EQ(opened.error(), "Failed to open '/nonexistent/watchdog': No such file or directory");
}

// ---- dry-run, log-only, router ----

TEST(DryRun, DescribesEachActionExactly) {
    DryRunExecutor executor;
    EXPECT_EQ(run(executor, request(Action::kRestartAgent, true)).detail,
              "dry-run: would call org.freedesktop.systemd1.Manager.RestartUnit "
              "cloudstack-agent.service replace");
    EXPECT_EQ(run(executor, request(Action::kGracefulReboot, true)).detail,
              "dry-run: would call org.freedesktop.login1.Manager.RebootWithFlags 0");
    EXPECT_EQ(run(executor, request(Action::kReboot, true)).detail,
              "dry-run: would write 'b' to /proc/sysrq-trigger");
    EXPECT_EQ(run(executor, custom({"/usr/local/bin/fence", "--now"})).detail,
              "dry-run: would run /usr/local/bin/fence with 1 argument(s) (timeout 5s)");
    const auto result = run(executor, request(Action::kLogOnly, true));
    EXPECT_TRUE(result.ok);
    EXPECT_EQ(result.detail, "dry-run: would log only");
}

// Records what it was asked to do.
class FakeExecutor final : public Executor {
  public:
    explicit FakeExecutor(std::string name, std::vector<std::string>& log)
        : name_(std::move(name)), log_(log) {}
    void execute(const ActionRequest& r, Done done) override {
        log_.push_back(name_ + ":" + std::string(to_string(r.action)));
        done({r.id, r.path, r.action, true, name_});
    }

  private:
    std::string name_;
    std::vector<std::string>& log_;
};

TEST(ActionRouter, DryRunWinsOverTheActionAndRealRequestsGoToTheirExecutor) {
    std::vector<std::string> log;
    std::map<Action, std::unique_ptr<Executor>> real;
    real[Action::kReboot] = std::make_unique<FakeExecutor>("sysrq", log);
    real[Action::kLogOnly] = std::make_unique<LogOnlyExecutor>();
    ActionRouter router(std::make_unique<FakeExecutor>("dry", log), std::move(real));

    EXPECT_EQ(run(router, request(Action::kReboot, /* dry_run= */ true)).detail, "dry");
    EXPECT_EQ(run(router, request(Action::kReboot, /* dry_run= */ false)).detail, "sysrq");
    EXPECT_EQ(run(router, request(Action::kLogOnly)).detail, "logged");
    EXPECT_EQ(log, (std::vector<std::string>{"dry:reboot", "sysrq:reboot"}));

    const auto missing = run(router, request(Action::kRestartAgent));
    EXPECT_FALSE(missing.ok);
    EXPECT_EQ(missing.detail, "Failed to run 'restart-agent': no executor configured for it");
}

}  // namespace
}  // namespace iohealth
