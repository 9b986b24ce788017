// restart-agent and graceful-reboot against python-dbusmock's systemd and logind templates on a
// private bus: the exact method and arguments called, and the real outcome reported.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>

#include "actuators/graceful_reboot.h"
#include "actuators/restart_agent.h"
#include "dbus_test_bus.h"

namespace iohealth {
namespace {

using namespace std::chrono_literals;
using testing::DbusMock;
using testing::PrivateBus;

constexpr const char* kJob = "/org/freedesktop/systemd1/job/42";

ActionResult run(Executor& executor, const ActionRequest& request) {
    std::promise<ActionResult> promise;
    auto future = promise.get_future();
    executor.execute(request, [&promise](ActionResult r) { promise.set_value(std::move(r)); });
    EXPECT_EQ(future.wait_for(30s), std::future_status::ready);
    return future.get();
}

ActionRequest restart_request() {
    ActionRequest r;
    r.id = 7;
    r.path = "nfs-primary";
    r.action = Action::kRestartAgent;
    r.dry_run = false;
    r.agent_unit = "cloudstack-agent.service";
    return r;
}

// Python for the mock's RestartUnit: reply with kJob, then JobRemoved(result) after `delay_ms`
// (0: emitted before the reply leaves, the race a client must survive). A JobRemoved for
// another job comes first so the executor must match on the job path.
std::string restart_unit_code(const std::string& result, int delay_ms) {
    const std::string emit =
        "(s.EmitSignal('org.freedesktop.systemd1.Manager', 'JobRemoved', 'uoss', "
        "[41, '/org/freedesktop/systemd1/job/41', 'other.service', 'failed']), "
        "s.EmitSignal('org.freedesktop.systemd1.Manager', 'JobRemoved', 'uoss', "
        "[42, '" +
        std::string(kJob) + "', args[0], '" + result + "']))";
    std::string code = "ret = '" + std::string(kJob) + "'\n";
    if (delay_ms == 0) return code + "s = self\n" + emit + "\n";
    return code + "__import__('gi.repository', fromlist=['GLib']).GLib.timeout_add(" +
           std::to_string(delay_ms) + ", lambda s=self, args=args: " + emit + " and False)\n";
}

class ActuatorBusTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (access(testing::kDebianPython, X_OK) != 0 || access(testing::kDbusDaemon, X_OK) != 0)
            GTEST_SKIP() << "needs /usr/bin/python3 with python3-dbusmock and dbus-daemon";
        bus_ = std::make_unique<PrivateBus>();
        ASSERT_TRUE(bus_->ok()) << "dbus-daemon did not start";
    }
    std::unique_ptr<DbusMock> start_systemd() {
        auto mock = std::make_unique<DbusMock>(*bus_, "systemd", "org.freedesktop.systemd1",
                                               "/org/freedesktop/systemd1");
        EXPECT_TRUE(mock->ready()) << "dbusmock systemd template did not start";
        return mock;
    }
    std::unique_ptr<DbusMock> start_logind() {
        auto mock = std::make_unique<DbusMock>(*bus_, "logind", "org.freedesktop.login1",
                                               "/org/freedesktop/login1");
        EXPECT_TRUE(mock->ready()) << "dbusmock logind template did not start";
        return mock;
    }
    RestartAgentExecutor restart_executor(Duration job_timeout = 10s) {
        return RestartAgentExecutor({bus_->address(), 5s, job_timeout});
    }

    std::unique_ptr<PrivateBus> bus_;
};

void expect_single_call(DbusMock& mock, const std::string& method,
                        const std::vector<std::string>& string_args) {
    const auto calls = mock.calls();
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0].method, method);
    ASSERT_EQ(calls[0].args.size(), string_args.size());
    for (std::size_t i = 0; i < string_args.size(); ++i)
        EXPECT_EQ(calls[0].args[i].get<std::string>(), string_args[i]) << "argument " << i;
}

TEST_F(ActuatorBusTest, RestartAgentReportsTheJobDoneAfterTheReply) {
    auto systemd = start_systemd();
    systemd->add_method("org.freedesktop.systemd1.Manager", "RestartUnit", "ss", "o",
                        restart_unit_code("done", 300));
    auto executor = restart_executor();
    const auto result = run(executor, restart_request());
    EXPECT_TRUE(result.ok) << result.detail;
    EXPECT_EQ(result.id, 7u);
    EXPECT_EQ(result.path, "nfs-primary");
    EXPECT_NE(result.detail.find(kJob), std::string::npos) << result.detail;
    expect_single_call(*systemd, "RestartUnit", {"cloudstack-agent.service", "replace"});
}

TEST_F(ActuatorBusTest, RestartAgentSeesAJobThatFinishedBeforeTheReply) {
    auto systemd = start_systemd();
    systemd->add_method("org.freedesktop.systemd1.Manager", "RestartUnit", "ss", "o",
                        restart_unit_code("done", 0));
    auto executor = restart_executor();
    const auto result = run(executor, restart_request());
    EXPECT_TRUE(result.ok) << result.detail;
}

TEST_F(ActuatorBusTest, RestartAgentReportsAFailedJobAsFailed) {
    auto systemd = start_systemd();
    systemd->add_method("org.freedesktop.systemd1.Manager", "RestartUnit", "ss", "o",
                        restart_unit_code("failed", 100));
    auto executor = restart_executor();
    const auto result = run(executor, restart_request());
    EXPECT_FALSE(result.ok);
    EXPECT_NE(result.detail.find("result 'failed'"), std::string::npos) << result.detail;
    EXPECT_NE(result.detail.find("cloudstack-agent.service"), std::string::npos);
}

TEST_F(ActuatorBusTest, RestartAgentReportsTheBusErrorOfARejectedCall) {
    auto systemd = start_systemd();
    systemd->add_method("org.freedesktop.systemd1.Manager", "RestartUnit", "ss", "o",
                        "raise dbus.exceptions.DBusException('Unit ' + args[0] + ' not found.', "
                        "name='org.freedesktop.systemd1.NoSuchUnit')");
    auto executor = restart_executor();
    const auto result = run(executor, restart_request());
    EXPECT_FALSE(result.ok);
    EXPECT_NE(result.detail.find("org.freedesktop.systemd1.NoSuchUnit: Unit "
                                 "cloudstack-agent.service not found."),
              std::string::npos)
        << result.detail;
}

TEST_F(ActuatorBusTest, RestartAgentGivesUpAfterTheJobTimeout) {
    auto systemd = start_systemd();
    systemd->add_method("org.freedesktop.systemd1.Manager", "RestartUnit", "ss", "o",
                        "ret = '" + std::string(kJob) + "'");
    auto executor = restart_executor(/* job_timeout= */ 300ms);
    const auto started = std::chrono::steady_clock::now();
    const auto result = run(executor, restart_request());
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
    EXPECT_FALSE(result.ok);
    EXPECT_NE(result.detail.find("gave no result within 300ms"), std::string::npos)
        << result.detail;
}

TEST_F(ActuatorBusTest, RestartAgentWithoutSystemdFails) {
    auto executor = restart_executor();
    const auto result = run(executor, restart_request());
    EXPECT_FALSE(result.ok);
    EXPECT_NE(result.detail.find("org.freedesktop.DBus.Error.ServiceUnknown"), std::string::npos)
        << result.detail;
}

GracefulRebootOptions reboot_options(std::string bus, std::string watchdog = "") {
    GracefulRebootOptions o;
    o.bus_address = std::move(bus);
    o.call_timeout = 5s;
    o.watchdog_device = std::move(watchdog);
    o.watchdog_margin = 1s;
    return o;
}

ActionRequest reboot_request() {
    ActionRequest r;
    r.id = 9;
    r.path = "drbd-r0";
    r.action = Action::kGracefulReboot;
    r.dry_run = false;
    return r;
}

TEST_F(ActuatorBusTest, GracefulRebootCallsRebootWithFlagsZero) {
    auto logind = start_logind();
    logind->add_method("org.freedesktop.login1.Manager", "RebootWithFlags", "t", "", "");
    GracefulRebootExecutor executor(reboot_options(bus_->address()));
    const auto result = run(executor, reboot_request());
    EXPECT_TRUE(result.ok) << result.detail;
    const auto calls = logind->calls();
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0].method, "RebootWithFlags");
    ASSERT_EQ(calls[0].args.size(), 1u);
    EXPECT_EQ(calls[0].args[0].get<std::uint64_t>(), 0u);
}

TEST_F(ActuatorBusTest, GracefulRebootFallsBackToRebootOnAnOldLogind) {
    auto logind = start_logind();  // the template has Reboot(b) but no RebootWithFlags
    GracefulRebootExecutor executor(reboot_options(bus_->address()));
    const auto result = run(executor, reboot_request());
    EXPECT_TRUE(result.ok) << result.detail;
    const auto calls = logind->calls();
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0].method, "Reboot");
    EXPECT_EQ(calls[0].args.at(0).get<bool>(), false);
}

TEST_F(ActuatorBusTest, GracefulRebootReportsALogindRefusal) {
    auto logind = start_logind();
    logind->add_method("org.freedesktop.login1.Manager", "RebootWithFlags", "t", "",
                       "raise dbus.exceptions.DBusException('Operation denied due to active "
                       "block inhibitor', name='org.freedesktop.login1.BlockedByInhibitorLock')");
    GracefulRebootExecutor executor(reboot_options(bus_->address()));
    const auto result = run(executor, reboot_request());
    EXPECT_FALSE(result.ok);
    EXPECT_NE(result.detail.find("org.freedesktop.login1.BlockedByInhibitorLock"),
              std::string::npos)
        << result.detail;
}

// A watchdog that cannot be armed (here a plain file: WDIOC_SETTIMEOUT fails) does not hold the
// reboot back; the detail says the backstop is missing, and the device is disarmed again.
TEST_F(ActuatorBusTest, GracefulRebootSaysWhenTheWatchdogBackstopCannotBeArmed) {
    auto logind = start_logind();
    logind->add_method("org.freedesktop.login1.Manager", "RebootWithFlags", "t", "", "");
    const auto device =
        std::filesystem::temp_directory_path() / ("iohealth-watchdog-" + std::to_string(getpid()));
    std::ofstream(device).close();
    GracefulRebootExecutor executor(reboot_options(bus_->address(), device.string()));
    auto request = reboot_request();
    request.deadline = 40s;
    const auto result = run(executor, request);
    EXPECT_TRUE(result.ok) << result.detail;
    EXPECT_NE(result.detail.find("no hardware watchdog backstop: Failed to set the timeout of '" +
                                 device.string() + "' to 41s"),
              std::string::npos)
        << result.detail;
    std::ifstream in(device);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "V") << "magic close";
    std::filesystem::remove(device);
}

TEST_F(ActuatorBusTest, GracefulRebootWithoutLogindStartsRebootTarget) {
    auto systemd = start_systemd();
    // Through AddMethod so that dbusmock records the call (template methods are not logged).
    systemd->add_method("org.freedesktop.systemd1.Manager", "StartUnit", "ss", "o",
                        "ret = '/org/freedesktop/systemd1/job/5'");
    GracefulRebootExecutor executor(reboot_options(bus_->address()));
    const auto result = run(executor, reboot_request());
    EXPECT_TRUE(result.ok) << result.detail;
    EXPECT_NE(result.detail.find("logind unavailable"), std::string::npos) << result.detail;
    expect_single_call(*systemd, "StartUnit", {"reboot.target", "replace-irreversibly"});
}

TEST_F(ActuatorBusTest, GracefulRebootWithNeitherServiceFails) {
    GracefulRebootExecutor executor(reboot_options(bus_->address()));
    const auto result = run(executor, reboot_request());
    EXPECT_FALSE(result.ok);
    EXPECT_NE(result.detail.find("Failed to request a reboot"), std::string::npos) << result.detail;
}

// Issue 15, defect 1: while the bus is away (dbus-daemon stopped or restarting) the steps
// that need it fail as failed steps with the reason; they neither hang nor throw.
// The system bus, as the daemon uses it, named by $DBUS_SYSTEM_BUS_ADDRESS: an explicit address
// would go through sdbus-c++ 1.2's sd_bus_open_user_with_address, which leaks the sd_bus when
// sd_bus_start fails (LeakSanitizer in the ASan tier); sd_bus_open_system frees it.
TEST(ActuatorWithoutBus, BusStepsFailAsFailedStepsWhenThereIsNoBus) {
    const char* before = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
    const std::string saved = before ? before : "";
    ::setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/iohealth-no-bus", 1);
    struct Restore {
        bool had;
        std::string value;
        ~Restore() {
            if (had)
                ::setenv("DBUS_SYSTEM_BUS_ADDRESS", value.c_str(), 1);
            else
                ::unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
        }
    } restore{before != nullptr, saved};
    const std::string gone;  // the system bus
    RestartAgentExecutor restart({gone, 5s, 10s});
    const auto restarted = run(restart, restart_request());
    EXPECT_FALSE(restarted.ok);
    EXPECT_FALSE(restarted.detail.empty());
    GracefulRebootExecutor reboot(reboot_options(gone));
    const auto rebooted = run(reboot, reboot_request());
    EXPECT_FALSE(rebooted.ok);
    EXPECT_NE(rebooted.detail.find("Failed to request a reboot"), std::string::npos)
        << rebooted.detail;
}

}  // namespace
}  // namespace iohealth
