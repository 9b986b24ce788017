// The CloudStack drop-ins (contrib/cloudstack/): stdout and exit codes byte for byte against
// the stock scripts' documented behaviour (tests/fixtures/cloudstack/), on a plain directory
// bind-mounted onto itself as the pool's mount point; the fallback when iohealthd will not act
// (journaled at crit, on a test syslog socket); and the fence (-c) reaching a real iohealthd
// on a system-like private bus, which judges it by its evidence for the pool (declined,
// fencing, not-acting) and runs its ladder cut by agent.properties, asserted in its
// --event-log. Every sysrq trigger is a test file.
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
#include "syslog_socket.h"
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
    for (std::size_t p; (p = e.out.find("@SCRIPTS@")) != std::string::npos;)
        e.out.replace(p, 9, kScripts);
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
        trigger_ = dir_ + "/dropin-sysrq-trigger";
        std::ofstream(trigger_).flush();
        defaults_ = dir_ + "/iohealth-cloudstack";  // absent: the documented defaults
        syslog_ = std::make_unique<testing::SyslogSocket>(dir_ + "/log");
        ASSERT_TRUE(syslog_->ok());
    }
    void TearDown() override {
        if (dir_.empty()) return;
        testing::run_quiet({"umount", "-l", mount_});
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    // Every drop-in runs with the test seams: never the real sysrq trigger or /dev/log.
    std::string seams() const {
        return fmt::format(
            "IOHEALTH_SYSRQ_TRIGGER={} IOHEALTH_CLOUDSTACK_DEFAULTS={} IOHEALTH_LOG_SOCKET={}",
            trigger_, defaults_, syslog_->path());
    }
    CommandResult script(const std::string& name, const std::string& args,
                         const std::string& env = "") {
        return run_status(fmt::format("{} {} {}/{} {}", seams(), env, kScripts, name, args));
    }
    CommandResult heartbeat(const std::string& args, const std::string& env = "") {
        return script("kvmheartbeat.sh", args, env);
    }
    CommandResult smp(const std::string& args, const std::string& env = "") {
        return script("kvmsmpheartbeat.sh", args, env);
    }
    void set_fallback(const std::string& value) {
        std::ofstream(defaults_) << "# /etc/default/iohealth-cloudstack\n"
                                 << "IOHEALTH_FENCE_FALLBACK=" << value << "\n";
    }
    // The syslog lines at `severity` that arrived since the last call.
    std::vector<std::string> logged(int severity) {
        std::vector<std::string> out;
        for (auto& line : syslog_->lines())
            if (line.starts_with(testing::user_priority(severity))) out.push_back(line);
        return out;
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

    std::string dir_, mount_, hb_, trigger_, defaults_;
    std::unique_ptr<testing::SyslogSocket> syslog_;
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

TEST_F(CloudstackDropinTest, ReadDirectoryIsAliveLikeStock) {
    fs::create_directories(hb_);
    expect_case("read-missing-file", heartbeat(pool_args() + " -r -t 60"));
}

TEST_F(CloudstackDropinTest, WriteOverADirectoryFailsLikeStock) {
    // The stock `echo > dir` fails (exit 1); a plain `mv -f` would move the file into the
    // directory and exit 0 with the heartbeat never updated.
    fs::create_directories(hb_);
    expect_case("write-directory", heartbeat(pool_args()));
    EXPECT_TRUE(fs::is_empty(hb_)) << "the heartbeat went into the directory";
}

TEST_F(CloudstackDropinTest, NoIohealthdRunsTheStockFenceAndSaysSoAtCrit) {
    const auto r = heartbeat(pool_args() + " -c",
                             fmt::format("DBUS_SYSTEM_BUS_ADDRESS=unix:path={}/no-bus", dir_));
    expect_case("fence", r);
    EXPECT_EQ(testing::read_text(trigger_), "b\n");
    const auto crit = logged(2);
    ASSERT_EQ(crit.size(), 1u);
    EXPECT_NE(crit[0].find("heartbeat: kvmheartbeat.sh: iohealthd will not act on the fence "
                           "(iohealthd did not answer: "),
              std::string::npos)
        << crit[0];
    EXPECT_NE(crit[0].find("IOHEALTH_FENCE_FALLBACK=stock-fence: running the stock fence (sync, "
                           "5 s, sysrq reboot)."),
              std::string::npos)
        << crit[0];
}

TEST_F(CloudstackDropinTest, IohealthdStoppedOnALiveBusRunsTheStockFenceAndSaysSoAtCrit) {
    // The system bus runs, iohealthd is not on it (stopped, crashed, not started yet).
    testing::SystemLikeBus bus;
    ASSERT_TRUE(bus.ok());
    const auto r = heartbeat(pool_args() + " -c", "DBUS_SYSTEM_BUS_ADDRESS=" + bus.address());
    expect_case("fence", r);
    EXPECT_EQ(testing::read_text(trigger_), "b\n");
    const auto crit = logged(2);
    ASSERT_EQ(crit.size(), 1u);
    EXPECT_TRUE(std::regex_search(
        crit[0], std::regex("kvmheartbeat.sh: iohealthd will not act on the fence \\(iohealthd "
                            "did not answer: .*org.iohealth.IoHealth1.*\\); "
                            "IOHEALTH_FENCE_FALLBACK=stock-fence: running the stock fence")))
        << crit[0];
}

TEST_F(CloudstackDropinTest, FallbackNoneRunsNothingAndSaysSoAtCrit) {
    set_fallback("none");
    const auto r = smp("-m " + mount_ + " -h 10.1.1.1 -c",
                       fmt::format("DBUS_SYSTEM_BUS_ADDRESS=unix:path={}/no-bus", dir_));
    expect_case("smp-fence", r);
    EXPECT_EQ(testing::read_text(trigger_), "");
    const auto crit = logged(2);
    ASSERT_EQ(crit.size(), 1u);
    EXPECT_NE(crit[0].find("kvmsmpheartbeat.sh: iohealthd will not act on the fence"),
              std::string::npos);
    EXPECT_NE(crit[0].find("IOHEALTH_FENCE_FALLBACK=none: nothing runs"), std::string::npos)
        << crit[0];
}

TEST_F(CloudstackDropinTest, AnUnknownFallbackRunsTheStockFence) {
    set_fallback("reboot-later");
    const auto r =
        run_status(fmt::format("{} DBUS_SYSTEM_BUS_ADDRESS=unix:path={}/no-bus "
                               "{}/kvmspheartbeat.sh -c",
                               seams(), dir_, kScripts));
    expect_case("sp-fence", r);
    EXPECT_EQ(testing::read_text(trigger_), "b\n");
    const auto crit = logged(2);
    ASSERT_EQ(crit.size(), 1u);
    EXPECT_NE(crit[0].find("IOHEALTH_FENCE_FALLBACK='reboot-later' is not stock-fence or none"),
              std::string::npos)
        << crit[0];
}

// --- iohealth-cloudstack enable|disable|status (dpkg-divert on a test dpkg database)

TEST_F(CloudstackDropinTest, EnableDivertsTheStockScriptsAndDisableRestoresThem) {
    const std::string admin = dir_ + "/dpkg", kvm = dir_ + "/kvm";
    fs::create_directories(admin);
    std::ofstream(admin + "/diversions").flush();
    fs::create_directories(kvm);
    for (const char* f : {"kvmheartbeat.sh", "kvmspheartbeat.sh", "kvmsmpheartbeat.sh"})
        std::ofstream(kvm + "/" + f) << "# stock " << f << "\n";
    const auto command = [&](const std::string& verb) {
        return run_status(
            fmt::format("DPKG_ADMINDIR={} IOHEALTH_CLOUDSTACK_SCRIPTS={} "
                        "IOHEALTH_STATE_DIR={}/state "
                        "IOHEALTH_CLOUDSTACK_DROPINS={} {}/iohealth-cloudstack {}",
                        admin, kvm, dir_, kScripts, kScripts, verb));
    };
    auto r = command("status");
    EXPECT_EQ(r.status, 3) << r.out << r.err;
    r = command("enable");
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    for (const char* f : {"kvmheartbeat.sh", "kvmspheartbeat.sh", "kvmsmpheartbeat.sh"}) {
        EXPECT_TRUE(fs::equivalent(kvm + "/" + f, kScripts + "/" + f)) << f;
        EXPECT_EQ(testing::read_text(kvm + "/" + f + ".stock"), std::string("# stock ") + f + "\n");
    }
    // What iohealthd checks from then on.
    EXPECT_EQ(
        testing::read_text(dir_ + "/state/cloudstack-dropins"),
        fmt::format("{0}/kvmheartbeat.sh\n{0}/kvmspheartbeat.sh\n{0}/kvmsmpheartbeat.sh\n", kvm));
    r = command("status");
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_EQ(r.out, fmt::format("{0}/kvmheartbeat.sh: drop-in\n{0}/kvmspheartbeat.sh: drop-in\n"
                                 "{0}/kvmsmpheartbeat.sh: drop-in\n",
                                 kvm));
    // Through the link, the drop-in still finds iohealth-fence.sh and runs as itself.
    const auto read =
        run_status(fmt::format("{} {}/kvmheartbeat.sh {} -r -t 60", seams(), kvm, pool_args()));
    expect_case("read-missing-file", read);
    EXPECT_EQ(command("enable").status, 0) << "enable twice";
    // A copy over the link (what an unpack without the diversion would do) is reported.
    fs::remove(kvm + "/kvmspheartbeat.sh");
    std::ofstream(kvm + "/kvmspheartbeat.sh") << "# a copy\n";
    r = command("status");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.out.find("kvmspheartbeat.sh: diverted, but " + kvm +
                         "/kvmspheartbeat.sh is not the drop-in"),
              std::string::npos)
        << r.out;
    fs::remove(kvm + "/kvmspheartbeat.sh");
    r = command("disable");
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    for (const char* f : {"kvmheartbeat.sh", "kvmspheartbeat.sh", "kvmsmpheartbeat.sh"}) {
        EXPECT_EQ(testing::read_text(kvm + "/" + f), std::string("# stock ") + f + "\n") << f;
        EXPECT_FALSE(fs::exists(kvm + "/" + f + ".stock")) << f;
    }
    EXPECT_EQ(command("status").status, 3);
    EXPECT_FALSE(fs::exists(dir_ + "/state/cloudstack-dropins"));
    EXPECT_EQ(testing::read_text(admin + "/diversions"), "");
}

// --- kvmsmpheartbeat.sh (SharedMountPoint)

TEST_F(CloudstackDropinTest, SmpWriteAndReadFreshStaleMissingLikeStock) {
    const std::string args = "-i x -p x -m " + mount_ + " -h 10.1.1.1";
    expect_case("smp-read-missing", smp(args + " -r -t 60"));
    expect_case("smp-write", smp(args));
    ASSERT_TRUE(std::regex_match(testing::read_text(hb_), std::regex("[0-9]{10}\n")));
    // Read in the second of the write: ALIVE (the stock `expr` takes an age of 0 for an error
    // and reports 999997; docs/cloudstack.md).
    expect_case("smp-read-alive", smp(args + " -r -t 60"));
    write_hb(std::to_string(epoch_now() - 30) + "\n");
    expect_case("smp-read-alive", smp(args + " -r -t 60"));
    for (int attempt = 0; attempt < 5; ++attempt) {
        const auto before = epoch_now();
        write_hb(std::to_string(before - 100) + "\n");
        const auto r = smp(args + " -r -t 60");
        if (epoch_now() != before) continue;
        expect_case("smp-read-dead", r);
        break;
    }
    write_hb("");
    expect_case("smp-read-empty", smp(args + " -r -t 60"));
    write_hb("garbage\n");
    expect_case("smp-read-garbage", smp(args + " -r -t 60"));
    // No temporary file left beside it.
    EXPECT_EQ(std::distance(fs::directory_iterator(mount_ + "/KVMHA"), fs::directory_iterator{}),
              1);
}

TEST_F(CloudstackDropinTest, SmpDirectoryInTheWayLikeStockExceptTheWrite) {
    fs::create_directories(hb_);
    const std::string args = "-m " + mount_ + " -h 10.1.1.1";
    expect_case("smp-read-missing", smp(args + " -r -t 60"));
    expect_case("write-directory", smp(args));
    EXPECT_TRUE(fs::is_empty(hb_)) << "the heartbeat went into the directory";
}

TEST_F(CloudstackDropinTest, SmpWriteThatCannotCreateTheFolder) {
    ASSERT_TRUE(testing::run_quiet({"mount", "-o", "remount,bind,ro", mount_}));
    const auto r = smp("-m " + mount_ + " -h 10.1.1.1");
    expect_case("smp-write-cannot-create", r);
    EXPECT_EQ(r.err, "Folder not writable: " + mount_ + "/KVMHA/");
}

TEST_F(CloudstackDropinTest, SmpBadArgumentsLikeStock) {
    expect_case("smp-no-mount", smp("-h 10.1.1.1 -r"));
    expect_case("smp-bad-option", smp("-m " + mount_ + " -x"));
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
        // The pool iohealthd watches: a directory bind-mounted onto itself, served at once.
        fs::create_directory(pool());
        pool_mounted_ = testing::run_quiet({"mount", "--bind", pool(), pool()});
        std::ofstream(work / "iohealthd.conf")
            << "[daemon]\ndiscover = no\ntick = 200ms\nsysrq_trigger = " << sysrq() << "\n"
            << "[cloudstack]\nagent_properties = " << agent_properties() << "\n"
            << "[policy]\nio_timeout = 1s\ngraceful_deadline = 1s\n"
            << "[path pool]\nmount = " << pool() << "\n";
        std::ofstream(sysrq()).flush();
        daemon_ =
            new testing::Child({IOHEALTHD, "-c", (work / "iohealthd.conf").string(), "--no-bpf",
                                "--bus-address", bus_->address(), "--event-log", event_log()},
                               {}, -1, (work / "iohealthd.log").string());
        auto connection = sdbus::createSessionBusConnectionWithAddress(bus_->address());
        started_ = testing::wait_for_name(*connection, kBusName);
        std::this_thread::sleep_for(1s);  // a few ticks of evidence for the pool
    }
    static void TearDownTestSuite() {
        delete daemon_;
        if (pool_mounted_) testing::run_quiet({"umount", "-l", pool()});
        delete bus_;
    }
    void SetUp() override {
        CloudstackDropinTest::SetUp();
        if (IsSkipped()) return;
        ASSERT_TRUE(bus_->ok()) << "dbus-daemon did not start";
        ASSERT_TRUE(started_) << "iohealthd did not take its bus name:\n"
                              << testing::read_text((bus_->dir() / "work/iohealthd.log").string());
        ASSERT_TRUE(pool_mounted_);
        set_fallback("none");  // dry-run is not-acting: no 5 s stock fence in each test
        set_mode("dry-run");
        std::ofstream(sysrq()).flush();
    }
    void TearDown() override {
        if (bus_ && bus_->ok() && started_) set_mode("dry-run");
        CloudstackDropinTest::TearDown();
    }

    static std::string pool() { return (bus_->dir() / "pool").string(); }
    void set_mode(const std::string& mode) {
        ASSERT_TRUE(testing::run_quiet({"busctl", "--address=" + bus_->address(), "call",
                                        std::string(kBusName), std::string(kManagerPath),
                                        std::string(kManagerInterface), "SetMode", "sts", mode, "0",
                                        "test"}));
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
                                           const std::string& fixture,
                                           const std::string& ladder = "heartbeat-timeout#",
                                           const std::string& step_prefix = "dry-run: step ") {
        const testing::EventLog log(event_log());
        const std::size_t before = log.read().size();
        const double start = testing::monotonic_seconds();
        expect_case(fixture, command());
        const auto started = log.wait_for(
            [&](const testing::LoggedEvent& e) {
                return e.at >= start && e.type == "escalation-started" &&
                       e.path.starts_with(ladder);
            },
            start + 5);
        EXPECT_TRUE(started) << "no ladder started in iohealthd";
        if (!started) return {};
        const auto exhausted = log.wait_for(
            [&](const testing::LoggedEvent& e) {
                // An armed sysrq step is the end: the host would be gone.
                return e.path == started->path &&
                       (e.type == "escalation-exhausted" ||
                        (e.type == "step-succeeded" && e.message.starts_with("step ") &&
                         e.message.find(" reboot succeeded") != std::string::npos));
            },
            start + 15);
        EXPECT_TRUE(exhausted) << "the ladder did not finish";
        std::vector<std::string> steps;
        const auto events = log.read();
        for (std::size_t i = before; i < events.size(); ++i) {
            const auto& e = events[i];
            if (e.path != started->path || e.type != "step-started") continue;
            if (e.message.starts_with("rebooting now")) continue;  // the sysrq step's record
            EXPECT_TRUE(e.message.starts_with(step_prefix)) << e.line;
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
    static inline bool pool_mounted_ = false;
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
    const auto steps =
        ladder_run_by([&] { return script("kvmspheartbeat.sh", "-c", bus_env()); }, "sp-fence");
    EXPECT_EQ(steps, (std::vector<std::string>{"log-only", "restart-agent", "graceful-reboot"}));
}

TEST_F(CloudstackFenceTest, RebootOnTimeoutFalseIsLogOnly) {
    std::ofstream(agent_properties())
        << "reboot.host.and.alert.management.on.heartbeat.timeout=false\n";
    const auto steps =
        ladder_run_by([&] { return heartbeat(pool_args() + " -c", bus_env()); }, "fence");
    EXPECT_EQ(steps, std::vector<std::string>{"log-only"});
}

TEST_F(CloudstackFenceTest, DryRunIsNotActingAndTheStockFenceRunsByDefault) {
    std::filesystem::remove(defaults_);
    std::ofstream(agent_properties()) << "kvm.heartbeat.fence.action=log-only\n";
    const auto steps =
        ladder_run_by([&] { return heartbeat(pool_args() + " -c", bus_env()); }, "fence");
    EXPECT_EQ(steps, std::vector<std::string>{"log-only"});  // described by iohealthd
    EXPECT_EQ(testing::read_text(trigger_), "b\n") << "the stock fence did not run";
    const auto crit = logged(2);
    ASSERT_EQ(crit.size(), 1u);
    EXPECT_TRUE(std::regex_search(
        crit[0], std::regex("iohealthd will not act on the fence \\(request [0-9]+: dry-run: "
                            "would be fencing: no monitored path for 192.0.2.10:/export/primary "
                            "on .* \\(kvmheartbeat.sh\\): the agent's request is the evidence\\); "
                            "IOHEALTH_FENCE_FALLBACK=stock-fence: running the stock fence")))
        << crit[0];
}

TEST_F(CloudstackFenceTest, DisarmedIsNotActingAndTheFallbackDecides) {
    set_mode("disarmed");
    const auto r = smp("-m " + pool() + " -h 10.1.1.1 -c", bus_env());
    expect_case("smp-fence", r);
    const auto crit = logged(2);
    ASSERT_EQ(crit.size(), 1u);
    EXPECT_NE(crit[0].find(": disarmed: would be declined: CloudStack asked to fence"),
              std::string::npos)
        << crit[0];
    EXPECT_NE(crit[0].find("IOHEALTH_FENCE_FALLBACK=none: nothing runs"), std::string::npos);
    EXPECT_EQ(testing::read_text(trigger_), "");
}

TEST_F(CloudstackFenceTest, MaintenanceIsNotActingAndTheStockFenceRunsByDefault) {
    std::filesystem::remove(defaults_);
    set_mode("armed");
    ASSERT_TRUE(
        testing::run_quiet({"busctl", "--address=" + bus_->address(), "call", std::string(kBusName),
                            std::string(kManagerPath), std::string(kManagerInterface), "SetMode",
                            "sts", "maintenance", "600000000", "test"}));
    const auto r = heartbeat(pool_args() + " -c", bus_env());
    expect_case("fence", r);
    EXPECT_EQ(testing::read_text(trigger_), "b\n") << "the stock fence did not run";
    EXPECT_EQ(testing::read_text(sysrq()), "") << "iohealthd acted in maintenance";
    const auto crit = logged(2);
    ASSERT_EQ(crit.size(), 1u);
    EXPECT_TRUE(std::regex_search(
        crit[0], std::regex("iohealthd will not act on the fence \\(request [0-9]+: maintenance: "
                            "would be fencing: .*\\); IOHEALTH_FENCE_FALLBACK=stock-fence: "
                            "running the stock fence")))
        << crit[0];
}

TEST_F(CloudstackFenceTest, ArmedDeclinesWhileThePoolProgresses) {
    std::ofstream(agent_properties()) << "# stock agent.properties\n";
    set_mode("armed");
    const testing::EventLog log(event_log());
    const double start = testing::monotonic_seconds();
    const auto steps = ladder_run_by(
        [&] {
            return heartbeat("-i 192.0.2.10 -p /export/primary -m " + pool() + " -h 10.1.1.1 -c",
                             bus_env());
        },
        "fence", "heartbeat-declined#", "step ");
    EXPECT_EQ(steps, std::vector<std::string>{"log-only"}) << "a reboot rung ran";
    const auto declined = log.wait_for(
        [&](const testing::LoggedEvent& e) { return e.at >= start && e.type == "fence-declined"; },
        start + 5);
    ASSERT_TRUE(declined) << "no fence-declined event";
    EXPECT_EQ(declined->path, "pool");
    EXPECT_TRUE(std::regex_search(
        declined->message,
        std::regex("heartbeat fence request [0-9]+ from 192.0.2.10:/export/primary on .*pool "
                   "\\(kvmheartbeat.sh\\) declined: CloudStack asked to fence after its "
                   "heartbeat writes timed out; the storage is slow but progressing: path pool "
                   "\\(.*pool\\) is HEALTHY: ")))
        << declined->line;
    const auto warnings = logged(4);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("kvmheartbeat.sh: unable to write the heartbeat to the storage; "
                               "iohealthd declined the reboot (request "),
              std::string::npos)
        << warnings[0];
    EXPECT_TRUE(logged(2).empty()) << "a declined fence is no fallback";
    EXPECT_EQ(testing::read_text(trigger_), "") << "the drop-in fenced";
    EXPECT_EQ(testing::read_text(sysrq()), "") << "iohealthd fenced";
}

TEST_F(CloudstackFenceTest, FenceDoesNotNeedTheMount) {
    // C8: the stock -c tries to remount first and never reaches the fence when that fails.
    std::ofstream(agent_properties()) << "kvm.heartbeat.fence.action=log-only\n";
    testing::run_quiet({"umount", "-l", mount_});
    const auto steps =
        ladder_run_by([&] { return heartbeat(pool_args() + " -c", bus_env()); }, "fence");
    EXPECT_EQ(steps, std::vector<std::string>{"log-only"});
}

// Last in the suite: after an armed sysrq step its ladder never finishes (the host would be
// gone), so a later request would join it.
TEST_F(CloudstackFenceTest, ArmedFencesWithoutEvidenceForThePool) {
    std::ofstream(agent_properties()) << "# stock agent.properties\n";
    set_mode("armed");
    const auto steps = ladder_run_by([&] { return heartbeat(pool_args() + " -c", bus_env()); },
                                     "fence", "heartbeat-timeout#", "step ");
    // restart-agent and graceful-reboot fail (no systemd, no logind on the test bus); the
    // sysrq step writes the test trigger.
    EXPECT_EQ(steps,
              (std::vector<std::string>{"log-only", "restart-agent", "graceful-reboot", "reboot"}));
    EXPECT_EQ(testing::read_text(sysrq()), "b");
    const auto notices = logged(5);
    ASSERT_FALSE(notices.empty());
    EXPECT_NE(notices[0].find("fence handed to iohealthd (request "), std::string::npos)
        << notices[0];
    EXPECT_TRUE(logged(2).empty());
    EXPECT_EQ(testing::read_text(trigger_), "");
}

}  // namespace
}  // namespace iohealth
