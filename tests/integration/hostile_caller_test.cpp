// iohealthd probed as a hostile or careless caller would (issue 15): the real daemon (--no-bpf,
// a loop device, dry-run) on a system-like private bus with the shipped policy, the bus taken
// away and brought back, oversized and malformed requests, callers as root and as nobody.
// Each test names the defect it covers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

#include <nlohmann/json.hpp>

#include "dbus/bus_names.h"
#include "dbus/errors.h"
#include "e2e/daemon_process.h"
#include "loop_device.h"
#include "system_bus.h"

namespace iohealth {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;
using testing::run_status;

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The CLOCK_MONOTONIC times (us) of the ticks in a recording (--record), in order.
std::vector<std::int64_t> recorded_ticks(const fs::path& record) {
    std::vector<std::int64_t> ticks;
    std::ifstream in(record);
    for (std::string line; std::getline(in, line);) {
        if (!contains(line, "\"sample\"")) continue;
        try {
            const json j = json::parse(line);
            const std::int64_t at = j.at("sample").at("at").get<std::int64_t>();
            if (ticks.empty() || ticks.back() != at) ticks.push_back(at);
        } catch (const std::exception&) {
            // the line being written
        }
    }
    return ticks;
}

constexpr const char* kNobody = "setpriv --reuid=nobody --regid=nogroup --clear-groups ";

// A fresh bus and daemon per test: several tests take the bus away or disconnect the daemon.
class HostileCaller : public ::testing::Test {
  protected:
    void SetUp() override {
        if (geteuid() != 0)
            GTEST_SKIP() << "needs root: loop devices, the bus name, and acting as nobody";
        bus_ = std::make_unique<testing::SystemLikeBus>(dropin());
        ASSERT_TRUE(bus_->ok()) << "dbus-daemon did not start";
        work_ = bus_->dir() / "work";
        fs::create_directory(work_);
        testing::make_sparse_file((work_ / "disk0.img").string(), 16 << 20);
        disk_ = std::make_unique<testing::LoopDevice>((work_ / "disk0.img").string());
        std::ofstream(work_ / "iohealthd.conf") << "[daemon]\n"
                                                   "discover = no\n"
                                                   "tick = 100ms\n"
                                                   "[policy]\n"
                                                   "custom_command = /usr/local/bin/fence-it "
                                                   "--token s3cr3t-t0ken\n"
                                                   "[path disk0]\n"
                                                   "device = "
                                                << disk_->path() << "\n";
        // The socket's address without the bus's guid, which changes when it restarts.
        daemon_ = std::make_unique<testing::DaemonProcess>(
            IOHEALTHD,
            std::vector<std::string>{"-c", (work_ / "iohealthd.conf").string(), "--no-bpf",
                                     "--bus-address", bus_->socket_address(), "--event-log",
                                     event_log().string(), "--record", record().string(),
                                     "--state-dir", (work_ / "state").string(), "--runtime-dir",
                                     (work_ / "run").string()},
            log().string());
        connection_ = sdbus::createSessionBusConnectionWithAddress(bus_->address());
        ASSERT_TRUE(testing::wait_for_name(*connection_, kBusName))
            << "iohealthd did not take its name; log:\n"
            << read_file(log());
    }
    void TearDown() override {
        connection_.reset();
        if (daemon_) daemon_->stop();
        daemon_.reset();
        disk_.reset();
        bus_.reset();
    }
    // A further bus policy file (system.d), for tests that need a wider policy.
    virtual std::string dropin() const { return ""; }

    fs::path log() const { return work_ / "iohealthd.log"; }
    fs::path event_log() const { return work_ / "events.log"; }
    fs::path record() const { return work_ / "record.jsonl"; }

    // iohealthctl on the bus; `prefix` runs it as another user.
    testing::CommandResult ctl(const std::string& args, const std::string& prefix = "") const {
        return run_status(prefix + IOHEALTHCTL + " --bus-address " + bus_->address() + " " + args);
    }
    // One call from a separate process (tests/integration/dbus_call.py): "ok ..." or
    // "error NAME: message".
    std::string call(const std::string& method, const std::string& signature,
                     const std::string& args, const std::string& prefix = "") const {
        return run_status(prefix + "/usr/bin/python3 " + (bus_->dir() / "dbus_call.py").string() +
                          " " + bus_->address() + " " + kBusName + " " + kManagerPath + " " +
                          kManagerInterface + " " + method + " " + signature + " " + args)
            .out;
    }

    std::unique_ptr<testing::SystemLikeBus> bus_;
    fs::path work_;
    std::unique_ptr<testing::LoopDevice> disk_;
    std::unique_ptr<testing::DaemonProcess> daemon_;
    std::unique_ptr<sdbus::IConnection> connection_;
};

// Defect 1: stopping dbus-daemon (a dbus upgrade does) ended in std::terminate from the bus
// thread's event loop. Now the daemon logs it, samples on (the recording shows every tick of
// the outage), reconnects when the bus is back and publishes its name and objects again.
TEST_F(HostileCaller, BusRestartKeepsMonitoringAndReRegisters) {
    std::this_thread::sleep_for(500ms);
    connection_.reset();
    bus_->stop();
    const auto ticks_before = recorded_ticks(record()).size();
    std::this_thread::sleep_for(3s);
    ASSERT_TRUE(daemon_->running()) << "iohealthd died with the bus; log:\n" << read_file(log());
    const auto during = recorded_ticks(record());
    // 3 s at 100 ms: about 30 ticks; a loop that waits on the bus records none.
    EXPECT_GE(during.size() - ticks_before, 20u) << read_file(log());

    ASSERT_TRUE(bus_->start());
    connection_ = sdbus::createSessionBusConnectionWithAddress(bus_->address());
    // Backoff is at most BusLink::kMaxRetry (5 s).
    ASSERT_TRUE(testing::wait_for_name(*connection_, kBusName, 10s))
        << "iohealthd did not come back on the bus; log:\n"
        << read_file(log());
    const auto status = ctl("status --json");
    EXPECT_EQ(status.status, 0) << status.err;
    EXPECT_EQ(json::parse(status.out)["paths"][0]["name"], "disk0") << status.out;

    // Never a gap of more than a few ticks, before, during or after the outage.
    const auto ticks = recorded_ticks(record());
    for (std::size_t i = 1; i < ticks.size(); ++i)
        EXPECT_LE(ticks[i] - ticks[i - 1], 500'000) << "tick " << i << " of " << ticks.size();
    const std::string text = read_file(log());
    EXPECT_TRUE(contains(text, "Bus: lost the connection")) << text;
    EXPECT_TRUE(contains(text, "Bus: back on the bus as org.iohealth.IoHealth1")) << text;
    EXPECT_FALSE(contains(text, "terminate")) << text;
    EXPECT_TRUE(daemon_->running());
}

// Defects 1 and 5: a ~32 MiB unknown action name to TestAction was echoed in the error reply,
// which the bus refused as too large (32 MiB limit) by disconnecting iohealthd: abort. Now the
// reply quotes a short prefix and the daemon stays on the bus without reconnecting.
TEST_F(HostileCaller, OversizedTestActionGetsAShortErrorAndTheDaemonStaysOnTheBus) {
    const std::string huge((32u << 20) - (64u << 10), 'x');
    auto proxy = sdbus::createProxy(*connection_, kBusName, kManagerPath);
    std::string detail;
    try {
        proxy->callMethod("TestAction")
            .onInterface(kManagerInterface)
            .withArguments(huge)
            .withTimeout(60s)
            .storeResultsTo(detail);
        ADD_FAILURE() << "a 32 MiB action name was accepted";
    } catch (const sdbus::Error& e) {
        EXPECT_EQ(e.getName(), error_name(BusError::kInvalidArgument)) << e.getMessage().size();
        EXPECT_LT(e.getMessage().size(), 512u);
        EXPECT_TRUE(contains(e.getMessage(), "xxxxxxxx")) << e.getMessage().substr(0, 512);
        EXPECT_TRUE(contains(e.getMessage(), std::to_string(huge.size()) + " bytes"))
            << e.getMessage().substr(0, 512);
    }
    ASSERT_TRUE(daemon_->running()) << read_file(log()).substr(0, 4096);
    const auto list = ctl("list --json");
    EXPECT_EQ(list.status, 0) << list.err;
    EXPECT_FALSE(contains(read_file(log()), "Bus: lost the connection")) << read_file(log());
}

// Defect 4: t near 2^63 us set maintenance with MaintenanceUntilUSec 0 that never re-armed,
// values of 2^63 and above silently became 1 h, and only the CLI capped maintenance at 168 h.
TEST_F(HostileCaller, DurationsBeyond168hOrOverflowingAreInvalidArgument) {
    const std::string invalid = "error " + std::string(error_name(BusError::kInvalidArgument));
    for (const std::string t :
         {"604800000001", "9223372036854775807", "9223372036854775808", "18446744073709551615"}) {
        const std::string r = call("SetMode", "sts", "maintenance " + t + " overflow");
        EXPECT_TRUE(r.starts_with(invalid)) << t << ": " << r;
        EXPECT_TRUE(contains(r, "beyond the limit of 168h")) << t << ": " << r;
    }
    const auto status = json::parse(ctl("status --json").out);
    EXPECT_EQ(status["mode"], "dry-run");
    EXPECT_EQ(status["maintenance_until_usec"], 0);
    // The limit itself is taken.
    EXPECT_EQ(call("SetMode", "sts", "maintenance 604800000000 week"), "ok None\n");
}

// Defect 5: a reason with a newline forged a second line in --event-log, a 1 MiB reason became
// one log line, error replies echoed client input verbatim, and a no-op SetMode logged a change.
TEST_F(HostileCaller, ReasonsAreBoundedAndControlCharactersEscaped) {
    const std::string invalid = "error " + std::string(error_name(BusError::kInvalidArgument));
    const std::string long_reason = call("SetMode", "sts", "armed 0 " + std::string(1025, 'r'));
    EXPECT_TRUE(long_reason.starts_with(invalid)) << long_reason;
    EXPECT_TRUE(contains(long_reason, "A reason is at most 1024 bytes; this one has 1025"))
        << long_reason;

    // A control character in a refused name is escaped in the reply, and only a prefix quoted.
    const std::string mode = call("SetMode", "sts", "\"$(printf 'x\001y')\" 0 r");
    EXPECT_TRUE(contains(mode, "Unknown mode 'x\\x01y'")) << mode;
    const std::string path = call("Explain", "s", std::string(300, 'p'));
    EXPECT_TRUE(contains(path, "No path '" + std::string(64, 'p') + "…' (300 bytes) is monitored"))
        << path;

    EXPECT_EQ(call("SetMode", "sts", "armed 0 \"$(printf 'ok\nFORGED-LINE')\""), "ok None\n");
    EXPECT_EQ(call("SetMode", "sts", "dry-run 0 back"), "ok None\n");
    EXPECT_EQ(call("SetMode", "sts", "dry-run 0 again"), "ok None\n");  // no change
    // The loop applies them at once; a loaded host may take a moment. "again" comes last: once
    // "back" is logged, a third line would follow within the same wake-up.
    for (int i = 0; i < 50 && !contains(read_file(event_log()), ": back"); ++i)
        std::this_thread::sleep_for(100ms);
    std::this_thread::sleep_for(300ms);
    const std::string events = read_file(event_log());
    EXPECT_TRUE(contains(events, "mode-changed mode dry-run -> armed: ok\\nFORGED-LINE (uid 0"))
        << events;
    for (std::size_t at = 0; (at = events.find('\n', at)) != std::string::npos; ++at)
        EXPECT_FALSE(events.compare(at + 1, 6, "FORGED") == 0) << events;
    EXPECT_TRUE(contains(events, "mode-changed mode armed -> dry-run: back")) << events;
    EXPECT_FALSE(contains(events, "dry-run -> dry-run")) << events;
    EXPECT_FALSE(contains(events, ": again")) << events;
}

// Defect 5, the pool of RequestHeartbeatFence: bounded like the other text, with a clear error
// that quotes only a prefix; a newline in its reason stays in one log line.
TEST_F(HostileCaller, HeartbeatFencePoolIsBoundedAndItsTextEscapedInTheLog) {
    auto proxy = sdbus::createProxy(*connection_, kBusName, kManagerPath);
    const auto request = [&](const std::map<std::string, std::string>& pool,
                             const std::string& reason) {
        std::tuple<std::uint64_t, std::string, std::string> reply;
        proxy->callMethod("RequestHeartbeatFence")
            .onInterface(kManagerInterface)
            .withArguments(reason, pool)
            .storeResultsTo(reply);
        return reply;
    };
    try {
        request({{"mount", std::string(5000, 'm')}}, "long");
        ADD_FAILURE() << "a 5000-byte pool value was accepted";
    } catch (const sdbus::Error& e) {
        EXPECT_EQ(e.getName(), error_name(BusError::kInvalidArgument));
        EXPECT_EQ(e.getMessage(),
                  "Pool entry 'mount' is too long (keys up to 64 bytes, values up to 4096)");
    }
    // Twice: the second joins the first's ladder and logs the reason.
    for (int i = 0; i < 2; ++i)
        request({{"mount", "/mnt/x\nFORGED-MOUNT"}}, "agent\nFORGED-REASON");
    std::this_thread::sleep_for(300ms);
    const std::string text = read_file(log());
    EXPECT_TRUE(contains(text, "/mnt/x\\nFORGED-MOUNT")) << text;
    for (const std::string forged : {"\nFORGED-MOUNT", "\nFORGED-REASON"})
        EXPECT_FALSE(contains(text, forged)) << text;
}

// Defect 2: Explain showed custom_command (and a token in it) to every local user while the
// configuration file was mode 0600. Now nobody sees the executable and how many arguments were
// left out; root sees the whole command; a dry-run step's signal names only the program.
TEST_F(HostileCaller, ExplainShowsNobodyOnlyTheCustomCommandsExecutable) {
    const auto as_nobody = ctl("explain disk0 --json", kNobody);
    ASSERT_EQ(as_nobody.status, 0) << as_nobody.err;
    EXPECT_FALSE(contains(as_nobody.out, "s3cr3t")) << as_nobody.out;
    const json config = json::parse(as_nobody.out)["config"];
    EXPECT_EQ(config["custom_command"], json::array({"/usr/local/bin/fence-it"}));
    EXPECT_EQ(config["custom_command_hidden_arguments"], 2);

    const json root = json::parse(ctl("explain disk0 --json").out)["config"];
    EXPECT_EQ(root["custom_command"],
              json::array({"/usr/local/bin/fence-it", "--token", "s3cr3t-t0ken"}));
    EXPECT_FALSE(root.contains("custom_command_hidden_arguments"));

    // StepFinished goes to every subscriber: the dry-run detail names only the program.
    const auto fence = ctl("fence custom --reason test --json");
    EXPECT_EQ(fence.status, 0) << fence.err;
    EXPECT_FALSE(contains(fence.out, "s3cr3t")) << fence.out;
    EXPECT_TRUE(contains(fence.out, "would run /usr/local/bin/fence-it with 2 argument(s)"))
        << fence.out;
}

// A bus policy that lets anyone send SetMode, so iohealthd's own check is what refuses.
class HostileCallerWiderPolicy : public HostileCaller {
  protected:
    std::string dropin() const override {
        return R"(<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><policy context="default">
  <allow send_destination="org.iohealth.IoHealth1"
         send_interface="org.iohealth.IoHealth1.Manager" send_member="SetMode"/>
</policy></busconfig>
)";
    }
};

std::size_t count_of(const std::string& text, const std::string& part) {
    std::size_t n = 0;
    for (std::size_t at = 0; (at = text.find(part, at)) != std::string::npos; at += part.size())
        ++n;
    return n;
}

// Defect 6: refused callers left no trace. Now each refusal is journaled with the method, the
// uid, the pid and the bus name, at most 10 a minute; the next logged one counts the rest.
TEST_F(HostileCallerWiderPolicy, RefusedCallsAreJournaledWithRateLimiting) {
    const std::string denied = "error " + std::string(error_name(BusError::kAccessDenied));
    for (int i = 0; i < 15; ++i) {
        const std::string r = call("SetMode", "sts", "armed 0 nope", kNobody);
        ASSERT_TRUE(r.starts_with(denied)) << r;
    }
    std::this_thread::sleep_for(200ms);
    const std::string text = read_file(log());
    EXPECT_EQ(count_of(text, "Refused SetMode from uid 65534 (pid "), 10u) << text;
    EXPECT_TRUE(contains(text, "): it needs root")) << text;
    EXPECT_EQ(json::parse(ctl("status --json").out)["mode"], "dry-run");
}

// Defect 8: 32 idle paths at tick 100 ms sent 317 PropertiesChanged/s (HeartbeatAgeUSec, and
// Reason with the heartbeat latency in it). The gauges no longer signal and the HEALTHY reason
// has no per-tick numbers: with nothing changing, nothing is sent.
TEST(IdlePaths, NoPropertiesChangedWhileNothingChanges) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: loop devices and the bus name";
    constexpr int kPaths = 32;
    testing::SystemLikeBus bus;
    ASSERT_TRUE(bus.ok());
    const fs::path work = bus.dir() / "work";
    fs::create_directory(work);
    std::vector<std::unique_ptr<testing::LoopDevice>> disks;
    std::string config = "[daemon]\ndiscover = no\ntick = 100ms\n";
    for (int i = 0; i < kPaths; ++i) {
        const std::string image = (work / ("disk" + std::to_string(i) + ".img")).string();
        testing::make_sparse_file(image, 1 << 20);
        disks.push_back(std::make_unique<testing::LoopDevice>(image));
        config += "[path disk" + std::to_string(i) + "]\ndevice = " + disks.back()->path() + "\n";
    }
    std::ofstream(work / "iohealthd.conf") << config;
    testing::DaemonProcess daemon(
        IOHEALTHD,
        {"-c", (work / "iohealthd.conf").string(), "--no-bpf", "--bus-address", bus.address(),
         "--state-dir", (work / "state").string(), "--runtime-dir", (work / "run").string()},
        (work / "iohealthd.log").string());
    auto connection = sdbus::createSessionBusConnectionWithAddress(bus.address());
    ASSERT_TRUE(testing::wait_for_name(*connection, kBusName)) << read_file(work / "iohealthd.log");
    // Settled: every path HEALTHY (the first verdicts do signal).
    const auto settle_by = std::chrono::steady_clock::now() + 20s;
    for (;;) {
        const auto r = run_status(std::string(IOHEALTHCTL) + " --bus-address " + bus.address() +
                                  " status --json");
        int healthy = 0;
        const json status = r.status == 0 ? json::parse(r.out) : json::object();
        for (const auto& p : status.value("paths", json::array()))
            healthy += p["verdict"] == "HEALTHY";
        if (healthy == kPaths) break;
        ASSERT_LT(std::chrono::steady_clock::now(), settle_by) << r.out;
        std::this_thread::sleep_for(200ms);
    }
    std::this_thread::sleep_for(1s);
    // Every PropertiesChanged, and the paths whose verdict changed meanwhile (on a loaded
    // machine a heartbeat can really be slow for a moment: that is a change, not idle noise).
    std::mutex mutex;
    int signals = 0;
    std::map<std::string, int> names;       // property -> times named
    std::map<std::string, int> by_object;   // object -> PropertiesChanged
    std::set<std::string> verdict_changed;  // path names
    auto properties = connection->addMatch(
        "type='signal',sender='org.iohealth.IoHealth1',"
        "interface='org.freedesktop.DBus.Properties',member='PropertiesChanged'",
        [&](sdbus::Message& m) {
            std::string interface;
            std::map<std::string, sdbus::Variant> changed;
            m >> interface >> changed;
            std::lock_guard lock(mutex);
            for (const auto& [name, value] : changed) ++names[name];
            ++by_object[m.getPath()];
            ++signals;
        });
    auto verdicts = connection->addMatch(
        "type='signal',sender='org.iohealth.IoHealth1',"
        "interface='org.iohealth.IoHealth1.Manager',member='VerdictChanged'",
        [&](sdbus::Message& m) {
            std::string path;
            m >> path;
            std::lock_guard lock(mutex);
            verdict_changed.insert(path);
        });
    connection->enterEventLoopAsync();
    constexpr auto kMeasure = 10s;
    std::this_thread::sleep_for(kMeasure);
    connection->leaveEventLoop();
    std::lock_guard lock(mutex);
    const double per_second = signals / std::chrono::duration<double>(kMeasure).count();
    std::string which;
    for (const auto& [name, n] : names) which += " " + name + " x" + std::to_string(n);
    std::printf(
        "IdlePaths: %d paths, tick 100 ms: %.1f PropertiesChanged/s (%zu verdict "
        "changes)%s\n",
        kPaths, per_second, verdict_changed.size(), which.c_str());
    // No gauge ever signals; a path signals only when its verdict really changed.
    for (const char* gauge : {"LatencyP50USec", "LatencyP99USec", "InFlight", "OldestAgeUSec",
                              "HeartbeatAgeUSec", "Errors"}) {
        EXPECT_FALSE(names.contains(gauge)) << gauge << ":" << which;
    }
    for (const auto& [object, n] : by_object) {
        EXPECT_TRUE(verdict_changed.contains(path_name(object)))
            << object << " sent " << n << " PropertiesChanged without a verdict change:" << which;
    }
    if (verdict_changed.empty()) {
        EXPECT_EQ(signals, 0) << which;
    }
    EXPECT_TRUE(daemon.running());
}

}  // namespace
}  // namespace iohealth
