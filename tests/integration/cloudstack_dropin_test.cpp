// The CloudStack drop-ins (contrib/cloudstack/): stdout and exit codes byte for byte against
// the stock scripts' documented behaviour (tests/fixtures/cloudstack/), on a plain directory
// bind-mounted onto itself as the pool's mount point; and the fence (-c) reaching a real
// iohealthd (dry-run) on a system-like private bus, which runs its configured ladder cut by
// agent.properties, asserted in its --event-log.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include <fmt/format.h>

#include "dbus/bus_names.h"
#include "e2e/event_log.h"
#include "run_command.h"
#include "system_bus.h"

namespace iohealth {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using testing::CommandResult;
using testing::run_status;

const std::string kScripts = std::string(IOHEALTH_SOURCE_DIR) + "/contrib/cloudstack";
const std::string kFixtures = std::string(IOHEALTH_SOURCE_DIR) + "/tests/fixtures/cloudstack";

struct Expected {
    int exit = -1;
    std::string out;
};

// "exit N\n--- stdout\n<stdout exactly>" with @MOUNT@ replaced.
Expected expected(const std::string& name, const std::string& mount) {
    const std::string text = testing::read_text(kFixtures + "/" + name + ".expected");
    const std::string marker = "--- stdout\n";
    const auto at = text.find(marker);
    EXPECT_TRUE(text.starts_with("exit ") && at != std::string::npos) << name << ": bad fixture";
    Expected e;
    e.exit = std::stoi(text.substr(5));
    e.out = text.substr(at + marker.size());
    for (std::size_t p; (p = e.out.find("@MOUNT@")) != std::string::npos;)
        e.out.replace(p, 7, mount);
    return e;
}

std::int64_t epoch_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

class CloudstackDropinTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (geteuid() != 0) GTEST_SKIP() << "needs root: bind mounts, the bus name";
        char tmpl[] = "/tmp/iohealth-cloudstack-XXXXXX";
        ASSERT_TRUE(mkdtemp(tmpl));
        dir_ = tmpl;
        mount_ = dir_ + "/pool";
        fs::create_directory(mount_);
        // A plain directory as the pool: the drop-in refuses to write under an unmounted -m.
        ASSERT_TRUE(testing::run_quiet({"mount", "--bind", mount_, mount_}));
        hb_ = mount_ + "/KVMHA/hb-10.1.1.1";
    }
    void TearDown() override {
        if (dir_.empty()) return;
        testing::run_quiet({"umount", "-l", mount_});
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    CommandResult heartbeat(const std::string& args, const std::string& env = "") {
        return run_status(fmt::format("{} {}/kvmheartbeat.sh {}", env, kScripts, args));
    }
    std::string pool_args() const {
        return "-i 192.0.2.10 -p /export/primary -m " + mount_ + " -h 10.1.1.1";
    }
    void expect_case(const std::string& name, const CommandResult& r) {
        const Expected e = expected(name, mount_);
        EXPECT_EQ(r.out, e.out) << name << " (stderr: " << r.err << ")";
        EXPECT_EQ(r.status, e.exit) << name;
    }
    void write_hb(const std::string& content) {
        fs::create_directories(mount_ + "/KVMHA");
        std::ofstream(hb_) << content;
    }

    std::string dir_, mount_, hb_;
};

TEST_F(CloudstackDropinTest, ReadAlive) {
    write_hb(std::to_string(epoch_now() - 30) + "\n");
    expect_case("read-alive", heartbeat(pool_args() + " -r -t 60"));
}

TEST_F(CloudstackDropinTest, ReadDead) {
    // The age is 100 only if no second boundary falls inside the run: retry until it did not.
    for (int attempt = 0; attempt < 5; ++attempt) {
        const auto before = epoch_now();
        write_hb(std::to_string(before - 100) + "\n");
        const auto r = heartbeat(pool_args() + " -r -t 60");
        if (epoch_now() != before) continue;
        expect_case("read-dead", r);
        return;
    }
    FAIL() << "every run crossed a second boundary";
}

TEST_F(CloudstackDropinTest, ReadMissingFileIsAliveLikeStock) {
    expect_case("read-missing-file", heartbeat(pool_args() + " -r -t 60"));
}

TEST_F(CloudstackDropinTest, ReadTornFileIsAliveLikeStock) {
    write_hb("");
    expect_case("read-missing-file", heartbeat(pool_args() + " -r -t 60"));
}

TEST_F(CloudstackDropinTest, ReadReportsTheRealAgeBeyond255Seconds) {
    // Stock `return $diff` wraps: 300 s old would print 44, 256 s old would print ALIVE.
    write_hb(std::to_string(epoch_now() - 256) + "\n");
    const auto r = heartbeat(pool_args() + " -r -t 60");
    EXPECT_TRUE(std::regex_search(r.out, std::regex("was \\[25[67]\\] seconds ago"))) << r.out;
}

TEST_F(CloudstackDropinTest, WriteStoresEpochSecondsAndANewline) {
    const auto before = epoch_now();
    expect_case("write", heartbeat(pool_args()));
    const std::string content = testing::read_text(hb_);
    ASSERT_TRUE(std::regex_match(content, std::regex("[0-9]{10}\n"))) << content;
    EXPECT_GE(std::stoll(content), before);
    EXPECT_LE(std::stoll(content), epoch_now());
    // No temporary file is left beside it; a second write replaces it.
    expect_case("write", heartbeat(pool_args()));
    EXPECT_EQ(std::distance(fs::directory_iterator(mount_ + "/KVMHA"), fs::directory_iterator{}),
              1);
}

TEST_F(CloudstackDropinTest, WriteThatCannotCreateTheFile) {
    ASSERT_TRUE(testing::run_quiet({"mount", "-o", "remount,bind,ro", mount_}));
    expect_case("write-cannot-create", heartbeat(pool_args()));
}

TEST_F(CloudstackDropinTest, WriteRefusesAnUnmountedPool) {
    testing::run_quiet({"umount", "-l", mount_});
    const auto r = heartbeat(pool_args());
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, mount_ + " is not mounted\n");
    EXPECT_FALSE(fs::exists(hb_)) << "wrote into the directory under the vanished mount";
}

TEST_F(CloudstackDropinTest, NoServerAddressExitsOneSilently) {
    expect_case("no-server-address", heartbeat("-m " + mount_ + " -h 10.1.1.1"));
}

TEST_F(CloudstackDropinTest, SpWithoutFlagDoesNothing) {
    expect_case("sp-no-flag", run_status(kScripts + "/kvmspheartbeat.sh"));
}

TEST_F(CloudstackDropinTest, UnknownOptionPrintsUsageAndExitsOne) {
    const auto r = heartbeat("-x");
    EXPECT_TRUE(r.out.starts_with("Usage: ")) << r.out;
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(run_status(kScripts + "/kvmspheartbeat.sh -x").status, 1);
}

TEST_F(CloudstackDropinTest, FenceFallsBackToSysrqWhenIohealthdIsNotThere) {
    const std::string trigger = dir_ + "/sysrq-trigger";
    std::ofstream(trigger).flush();
    const auto r = heartbeat(
        pool_args() + " -c",
        fmt::format("DBUS_SYSTEM_BUS_ADDRESS=unix:path={}/no-bus IOHEALTH_SYSRQ_TRIGGER={}", dir_,
                    trigger));
    expect_case("fence", r);
    EXPECT_EQ(testing::read_text(trigger), "b\n");
}

// --- the fence through iohealthd

class CloudstackFenceTest : public CloudstackDropinTest {
  protected:
    static void SetUpTestSuite() {
        if (geteuid() != 0) return;
        bus_ = new testing::SystemLikeBus;
        if (!bus_->ok()) return;
        const fs::path work = bus_->dir() / "work";
        fs::create_directory(work);
        // One tick is 200 ms; every hold 1 s: the whole ladder runs in about 4 s.
        std::ofstream(work / "iohealthd.conf")
            << "[daemon]\ndiscover = no\ntick = 200ms\nsysrq_trigger = " << sysrq() << "\n"
            << "[cloudstack]\nagent_properties = " << agent_properties() << "\n"
            << "[policy]\nio_timeout = 1s\ngraceful_deadline = 1s\n";
        std::ofstream(sysrq()).flush();
        daemon_ =
            new testing::Child({IOHEALTHD, "-c", (work / "iohealthd.conf").string(), "--no-bpf",
                                "--bus-address", bus_->address(), "--event-log", event_log()},
                               {}, -1, (work / "iohealthd.log").string());
        auto connection = sdbus::createSessionBusConnectionWithAddress(bus_->address());
        started_ = testing::wait_for_name(*connection, kBusName);
    }
    static void TearDownTestSuite() {
        delete daemon_;
        delete bus_;
    }
    void SetUp() override {
        CloudstackDropinTest::SetUp();
        if (IsSkipped()) return;
        ASSERT_TRUE(bus_->ok()) << "dbus-daemon did not start";
        ASSERT_TRUE(started_) << "iohealthd did not take its bus name:\n"
                              << testing::read_text((bus_->dir() / "work/iohealthd.log").string());
    }

    static std::string sysrq() { return (bus_->dir() / "work/sysrq-trigger").string(); }
    static std::string agent_properties() {
        return (bus_->dir() / "work/agent.properties").string();
    }
    static std::string event_log() { return (bus_->dir() / "work/events.log").string(); }
    std::string bus_env() const { return "DBUS_SYSTEM_BUS_ADDRESS=" + bus_->address(); }

    // Runs `command`, then returns the actions the new heartbeat-timeout ladder started (in
    // order) once iohealthd says it is exhausted.
    std::vector<std::string> ladder_run_by(const std::function<CommandResult()>& command,
                                           const std::string& fixture) {
        const testing::EventLog log(event_log());
        const std::size_t before = log.read().size();
        const double start = testing::monotonic_seconds();
        expect_case(fixture, command());
        const auto started = log.wait_for(
            [&](const testing::LoggedEvent& e) {
                return e.at >= start && e.type == "escalation-started" &&
                       e.path.starts_with("heartbeat-timeout#");
            },
            start + 5);
        EXPECT_TRUE(started) << "no ladder started in iohealthd";
        if (!started) return {};
        const auto exhausted = log.wait_for(
            [&](const testing::LoggedEvent& e) {
                return e.type == "escalation-exhausted" && e.path == started->path;
            },
            start + 15);
        EXPECT_TRUE(exhausted) << "the ladder did not finish";
        std::vector<std::string> steps;
        const auto events = log.read();
        for (std::size_t i = before; i < events.size(); ++i) {
            const auto& e = events[i];
            if (e.path != started->path || e.type != "step-started") continue;
            EXPECT_TRUE(e.message.starts_with("dry-run: step ")) << e.line;
            std::smatch m;
            const std::string msg = e.message;
            if (std::regex_search(msg, m, std::regex("step [0-9]+ ([a-z-]+) started")))
                steps.push_back(m[1]);
        }
        return steps;
    }

    static inline testing::SystemLikeBus* bus_ = nullptr;
    static inline testing::Child* daemon_ = nullptr;
    static inline bool started_ = false;
};

TEST_F(CloudstackFenceTest, AgentDefaultRunsTheWholeConfiguredLadderDryRun) {
    std::ofstream(agent_properties()) << "# stock agent.properties: no fence settings\n";
    const auto steps =
        ladder_run_by([&] { return heartbeat(pool_args() + " -c", bus_env()); }, "fence");
    EXPECT_EQ(steps,
              (std::vector<std::string>{"log-only", "restart-agent", "graceful-reboot", "reboot"}));
    EXPECT_EQ(testing::read_text(sysrq()), "") << "dry-run wrote to the sysrq trigger";
}

TEST_F(CloudstackFenceTest, FenceActionCutsTheLadder) {
    std::ofstream(agent_properties()) << "kvm.heartbeat.fence.action=log-only\n"
                                         "kvm.heartbeat.fence.action = restart-agent\n";
    const auto steps =
        ladder_run_by([&] { return heartbeat(pool_args() + " -c", bus_env()); }, "fence");
    EXPECT_EQ(steps, (std::vector<std::string>{"log-only", "restart-agent"}));
}

TEST_F(CloudstackFenceTest, GracefulRebootNeverReachesSysrq) {
    std::ofstream(agent_properties()) << "kvm.heartbeat.fence.action=graceful-reboot\n";
    const auto steps = ladder_run_by(
        [&] { return run_status(bus_env() + " " + kScripts + "/kvmspheartbeat.sh -c"); },
        "sp-fence");
    EXPECT_EQ(steps, (std::vector<std::string>{"log-only", "restart-agent", "graceful-reboot"}));
}

TEST_F(CloudstackFenceTest, RebootOnTimeoutFalseIsLogOnly) {
    std::ofstream(agent_properties())
        << "reboot.host.and.alert.management.on.heartbeat.timeout=false\n";
    const auto steps =
        ladder_run_by([&] { return heartbeat(pool_args() + " -c", bus_env()); }, "fence");
    EXPECT_EQ(steps, std::vector<std::string>{"log-only"});
}

TEST_F(CloudstackFenceTest, FenceDoesNotNeedTheMount) {
    // C8: the stock -c tries to remount first and never reaches the fence when that fails.
    std::ofstream(agent_properties()) << "kvm.heartbeat.fence.action=log-only\n";
    testing::run_quiet({"umount", "-l", mount_});
    const auto steps =
        ladder_run_by([&] { return heartbeat(pool_args() + " -c", bus_env()); }, "fence");
    EXPECT_EQ(steps, std::vector<std::string>{"log-only"});
}

}  // namespace
}  // namespace iohealth
