// iohealthctl end to end: the real iohealthd (--no-bpf, one loop device, `discover = no`, guests
// from libvirt's test:/// driver)
// publishing on a system-like private dbus-daemon with the shipped policy, and the real
// iohealthctl binary for every verb, as root and as nobody; --json output parsed.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "dbus/bus_names.h"
#include "direct_io.h"
#include "iohealth/version.h"
#include "libvirt_test_node.h"
#include "loop_device.h"
#include "system_bus.h"

namespace iohealth {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;
using testing::CommandResult;
using testing::run_status;

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// `libvirt_uri`: the guests, from libvirt's test:/// driver.
std::string config_text(const std::vector<const testing::LoopDevice*>& devices,
                        const std::string& libvirt_uri) {
    std::string text =
        "[daemon]\n"
        "discover = no\n"
        "tick = 200ms\n"
        "[libvirt]\n"
        "uri = " +
        libvirt_uri + "\n";
    for (std::size_t i = 0; i < devices.size(); ++i)
        text += "[path disk" + std::to_string(i) + "]\ndevice = " + devices[i]->path() + "\n";
    return text;
}

// Signals seen through a plain sdbus proxy (independent of iohealthctl's own client).
class SignalLog {
  public:
    void add(std::string s) {
        {
            std::lock_guard lock(mutex_);
            lines_.push_back(std::move(s));
        }
        cv_.notify_all();
    }
    bool wait_for(const std::string& part, std::chrono::milliseconds timeout = 5s) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, timeout, [&] {
            for (const auto& l : lines_)
                if (contains(l, part)) return true;
            return false;
        });
    }
    std::string all() {
        std::lock_guard lock(mutex_);
        std::string s;
        for (const auto& l : lines_) s += l + "\n";
        return s;
    }

  private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<std::string> lines_;
};

// One daemon for the suite, as it would run on a host.
class IoHealthCtlTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        if (geteuid() != 0) return;  // each test skips in SetUp
        bus_ = new testing::SystemLikeBus;
        if (!bus_->ok()) return;
        work_ = new fs::path(bus_->dir() / "work");
        fs::create_directory(*work_);
        testing::make_sparse_file((*work_ / "disk0.img").string(), 64 << 20);
        testing::make_sparse_file((*work_ / "disk1.img").string(), 64 << 20);
        disk0_ = new testing::LoopDevice((*work_ / "disk0.img").string());
        disk1_ = new testing::LoopDevice((*work_ / "disk1.img").string());
        // One guest on disk0, one on a file elsewhere, one shut off on disk0.
        libvirt_uri_ = new std::string(
            testing::write_test_node((*work_ / "node.xml").string(),
                                     {{"vm-disk0",
                                       "44444444-0000-4000-8000-000000000001",
                                       {{"block", disk0_->path(), "vda"}}},
                                      {"vm-file",
                                       "44444444-0000-4000-8000-000000000002",
                                       {{"file", (*work_ / "vm-file.qcow2").string(), "vda"}}},
                                      {"vm-off",
                                       "44444444-0000-4000-8000-000000000003",
                                       {{"block", disk0_->path(), "vda"}},
                                       5}}));
        std::ofstream(config_path()) << config_text({disk0_}, *libvirt_uri_);
        started_ = start_daemon();
    }
    // The daemon keeps its mode in work/state and its episodes in work/run, never in the
    // host's /var/lib/iohealth or /run/iohealth.
    static bool start_daemon() {
        daemon_ = new testing::Child(
            {IOHEALTHD, "-c", config_path(), "--no-bpf", "--bus-address", bus_->address(),
             "--event-log", event_log(), "--state-dir", (*work_ / "state").string(),
             "--runtime-dir", (*work_ / "run").string()},
            {}, -1, (*work_ / "iohealthd.log").string());
        auto connection = sdbus::createSessionBusConnectionWithAddress(bus_->address());
        return testing::wait_for_name(*connection, kBusName) && wait_until_sampling();
    }
    // SIGKILL and a new start on the same directories; `forget`: without the kept state.
    static bool restart_daemon(bool forget = false) {
        ::kill(daemon_->pid(), SIGKILL);
        delete daemon_;
        if (forget) fs::remove_all(*work_ / "state");
        return start_daemon();
    }
    // The device resolved and two ticks sampled since: I/O a test does from now on is counted.
    static bool wait_until_sampling() {
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (std::chrono::steady_clock::now() < deadline) {
            const auto r = run_status(std::string(IOHEALTHCTL) + " --bus-address " +
                                      bus_->address() + " explain disk0 --json");
            if (r.status == 0) {
                const json e = json::parse(r.out);
                if (!e["device"].is_null() && e["window"]["ticks"].get<int>() >= 2) return true;
            }
            std::this_thread::sleep_for(100ms);
        }
        return false;
    }
    static void TearDownTestSuite() {
        delete daemon_;
        delete disk0_;
        delete disk1_;
        delete work_;
        delete bus_;
        delete libvirt_uri_;
    }
    void SetUp() override {
        if (geteuid() != 0)
            GTEST_SKIP() << "needs root: loop devices, the bus name, and acting as nobody";
        ASSERT_TRUE(bus_->ok()) << "dbus-daemon did not start";
        ASSERT_TRUE(started_) << "iohealthd did not take its bus name and sample disk0; log:\n"
                              << daemon_log();
    }

    static std::string config_path() { return (*work_ / "iohealthd.conf").string(); }
    static std::string event_log() { return (*work_ / "events.log").string(); }
    static std::string read_file(const std::string& path) {
        std::ifstream in(path);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }
    static std::string daemon_log() { return read_file((*work_ / "iohealthd.log").string()); }

    // iohealthctl against the private bus; `prefix` runs it as another user.
    CommandResult ctl(const std::string& args, const std::string& prefix = "") {
        return run_status(prefix + IOHEALTHCTL + " --bus-address " + bus_->address() + " " + args);
    }
    json ctl_json(const std::string& args) {
        const auto r = ctl(args + " --json");
        EXPECT_EQ(r.status, 0) << args << ": " << r.err;
        try {
            return json::parse(r.out);
        } catch (const std::exception& e) {
            ADD_FAILURE() << args << " --json printed invalid JSON (" << e.what() << "):\n"
                          << r.out;
            return json();
        }
    }
    std::string mode() { return ctl_json("status").value("mode", ""); }
    bool wait_for_mode(const std::string& wanted, std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            if (mode() == wanted) return true;
            std::this_thread::sleep_for(100ms);
        }
        return false;
    }

    static inline testing::SystemLikeBus* bus_ = nullptr;
    static inline fs::path* work_ = nullptr;
    static inline testing::LoopDevice* disk0_ = nullptr;
    static inline testing::LoopDevice* disk1_ = nullptr;
    static inline testing::Child* daemon_ = nullptr;
    static inline std::string* libvirt_uri_ = nullptr;
    static inline bool started_ = false;
};

TEST_F(IoHealthCtlTest, StatusListAndShowDescribeThePath) {
    const auto status = ctl("status");
    EXPECT_EQ(status.status, 0) << status.err;
    EXPECT_TRUE(status.out.starts_with(std::string("iohealthd ") + kVersion +
                                       ": mode dry-run (configuration)\n"))
        << status.out;
    EXPECT_TRUE(contains(status.out, "PATH   KIND    VERDICT")) << status.out;
    EXPECT_TRUE(contains(status.out, "disk0  device  ")) << status.out;

    const auto list = ctl("list");
    EXPECT_EQ(list.status, 0) << list.err;
    EXPECT_TRUE(contains(list.out, "/org/iohealth/IoHealth1/path/disk0")) << list.out;

    const auto show = ctl("show disk0");
    EXPECT_EQ(show.status, 0) << show.err;
    EXPECT_TRUE(contains(show.out, "name: disk0\n")) << show.out;
    EXPECT_TRUE(contains(show.out, "target: " + disk0_->path() + "\n")) << show.out;
    EXPECT_TRUE(contains(show.out, "kind: device\n")) << show.out;
}

TEST_F(IoHealthCtlTest, EveryVerbPrintsValidJson) {
    const json status = ctl_json("status");
    EXPECT_EQ(status["version"], kVersion);
    EXPECT_EQ(status["mode"], "dry-run");
    EXPECT_EQ(status["maintenance_until_usec"], 0);
    ASSERT_EQ(status["paths"].size(), 1u) << status.dump();
    const json& p = status["paths"][0];
    EXPECT_EQ(p["name"], "disk0");
    EXPECT_EQ(p["target"], disk0_->path());
    EXPECT_TRUE(p["verdict"].is_string());
    EXPECT_TRUE(p["latency_p99_usec"].is_number_unsigned());
    EXPECT_TRUE(p["heartbeat_age_usec"].is_number_unsigned());
    EXPECT_EQ(p["escalation_step"], 0);

    const json list = ctl_json("list");
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0]["object"], "/org/iohealth/IoHealth1/path/disk0");

    const json show = ctl_json("show disk0");
    EXPECT_EQ(show["name"], "disk0");
    EXPECT_EQ(show["kind"], "device");

    const json explain = ctl_json("explain disk0");
    EXPECT_EQ(explain["path"], "disk0");
    EXPECT_EQ(explain["device"],
              std::to_string(major(disk0_->dev())) + ":" + std::to_string(minor(disk0_->dev())));
    EXPECT_TRUE(explain["assessment"]["p99_usec"].is_number());
    EXPECT_EQ(explain["config"]["timings"]["tick"], 200'000);
    EXPECT_EQ(explain["config"]["name"], "disk0");
    EXPECT_EQ(explain["window"]["latency_slots"].size(), 32u);

    const json histogram = ctl_json("histogram disk0");
    ASSERT_EQ(histogram["slots"].size(), 32u);
    EXPECT_EQ(histogram["slots"][10]["from_usec"], 1024);
    EXPECT_EQ(histogram["slots"][10]["to_usec"], 2048);
    EXPECT_TRUE(histogram["slots"][31]["to_usec"].is_null());

    const json test = ctl_json("test-action restart-agent");
    EXPECT_EQ(test["detail"],
              "dry-run: would call org.freedesktop.systemd1.Manager.RestartUnit "
              "cloudstack-agent.service replace");

    const json fence = ctl_json("fence log-only --reason json-check");
    EXPECT_TRUE(fence["id"].is_number_unsigned());
    EXPECT_EQ(fence["finished"], true);
    EXPECT_EQ(fence["success"], true);
    EXPECT_EQ(fence["dry_run"], true);
    EXPECT_EQ(fence["detail"], "dry-run: would log only");

    const json mode = ctl_json("mode dry-run --reason json-check");
    EXPECT_EQ(mode["mode"], "dry-run");
}

TEST_F(IoHealthCtlTest, ExplainAndHistogramShowTheEvidence) {
    // Our own I/O on the device, so the window holds completions.
    for (int i = 0; i < 50; ++i)
        ASSERT_EQ(testing::direct_io(disk0_->path(), off_t(i) * 4096, false).bytes, 4096);
    std::this_thread::sleep_for(600ms);  // two ticks or more
    const auto explain = ctl("explain disk0");
    EXPECT_EQ(explain.status, 0) << explain.err;
    EXPECT_TRUE(explain.out.starts_with("disk0 (device " + disk0_->path())) << explain.out;
    for (const char* part : {"  reason:", "  latency:", "  witnesses:", "  escalation:  idle",
                             "  timings:     tick 200ms", "  ladder:      log-only"})
        EXPECT_TRUE(contains(explain.out, part)) << part << " in\n" << explain.out;

    const json h = ctl_json("histogram disk0");
    EXPECT_GE(h["total"].get<std::uint64_t>(), 50u) << h.dump();
    const auto text = ctl("histogram disk0");
    EXPECT_TRUE(contains(text.out, "completions over the evidence window")) << text.out;
    EXPECT_TRUE(contains(text.out, "|#")) << text.out;
    EXPECT_TRUE(contains(text.out, "us |") || contains(text.out, "ms |")) << text.out;
}

TEST_F(IoHealthCtlTest, MaintenanceWindowReArmsByItself) {
    const auto r = ctl("mode maintenance --for 2s --reason 'disk swap'");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(r.out.starts_with("Mode: maintenance until ")) << r.out;
    const json s = ctl_json("status");
    EXPECT_EQ(s["mode"], "maintenance");
    EXPECT_GT(s["maintenance_until_usec"].get<std::uint64_t>(), 0u);
    EXPECT_TRUE(wait_for_mode("dry-run", 5s)) << "maintenance did not end";
    EXPECT_TRUE(contains(read_file(event_log()), "mode-changed mode maintenance -> dry-run"))
        << read_file(event_log());

    EXPECT_EQ(ctl("mode arm").out, "Mode: armed (runtime change)\n");
    EXPECT_EQ(ctl("mode disarm --reason test").out, "Mode: disarmed (runtime change)\n");
    // The names the configuration, --mode, D-Bus and the docs use.
    EXPECT_EQ(ctl("mode armed").out, "Mode: armed (runtime change)\n");
    EXPECT_EQ(ctl("mode disarmed --reason test").out, "Mode: disarmed (runtime change)\n");
    EXPECT_EQ(ctl("mode dry-run").out, "Mode: dry-run (runtime change)\n");
    EXPECT_TRUE(
        contains(read_file(event_log()), "mode-changed mode armed -> disarmed: test (uid 0"))
        << read_file(event_log());
}

// Issue 13: a runtime mode and a maintenance window outlive the daemon. "A restart 2 minutes
// into a 30-minute maintenance" scaled to 2 s into 12 s: still in maintenance until the
// window's own end, then re-armed to the runtime mode it interrupted.
TEST_F(IoHealthCtlTest, RuntimeModeAndMaintenanceSurviveARestart) {
    EXPECT_EQ(ctl("mode arm").out, "Mode: armed (runtime change)\n");
    ASSERT_TRUE(restart_daemon()) << read_file((*work_ / "iohealthd.log").string());
    EXPECT_TRUE(ctl("status").out.starts_with(std::string("iohealthd ") + kVersion +
                                              ": mode armed (runtime change)\n"));
    EXPECT_EQ(ctl_json("status")["mode_source"], "runtime");

    ASSERT_EQ(ctl("mode maintenance --for 12s").status, 0);
    const std::uint64_t until = ctl_json("status")["maintenance_until_usec"].get<std::uint64_t>();
    std::this_thread::sleep_for(2s);
    ASSERT_TRUE(restart_daemon()) << read_file((*work_ / "iohealthd.log").string());
    const json s = ctl_json("status");
    EXPECT_EQ(s["mode"], "maintenance");
    EXPECT_EQ(s["mode_source"], "maintenance");
    const auto kept_until = s["maintenance_until_usec"].get<std::uint64_t>();
    EXPECT_LE(std::max(kept_until, until) - std::min(kept_until, until), 1000u)
        << "the window's end moved across the restart";
    EXPECT_TRUE(contains(read_file((*work_ / "iohealthd.log").string()),
                         "Kept mode: runtime mode armed kept; maintenance kept"));

    ASSERT_TRUE(wait_for_mode("armed", 15s)) << "maintenance did not end";
    const auto rearmed = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
    EXPECT_GE(rearmed, static_cast<std::int64_t>(until) - 1000) << "re-armed before the end";
    EXPECT_LE(rearmed - static_cast<std::int64_t>(until), 1'000'000) << "re-armed late";
    std::printf("measured: re-armed %.3f s after the window's end (polled every 100 ms)\n",
                (rearmed - static_cast<std::int64_t>(until)) / 1e6);
    EXPECT_TRUE(contains(read_file(event_log()),
                         "mode-changed mode maintenance -> armed: maintenance ended, re-armed"))
        << read_file(event_log());
    ASSERT_TRUE(restart_daemon(/*forget=*/true));  // the configured mode for the other tests
    EXPECT_EQ(ctl_json("status")["mode_source"], "config");
}

TEST_F(IoHealthCtlTest, FenceEmitsStepSignalsAndTheEventLogShowsIt) {
    auto connection = sdbus::createSessionBusConnectionWithAddress(bus_->address());
    auto proxy = sdbus::createProxy(*connection, kBusName, kManagerPath);
    SignalLog signals;
    proxy->uponSignal("StepStarted")
        .onInterface(kManagerInterface)
        .call([&](const std::string& path, std::uint64_t id, std::int32_t step,
                  const std::string& action, bool dry_run) {
            signals.add(
                fmt::format("StepStarted '{}' {} {} {} {}", path, id, step, action, dry_run));
        });
    proxy->uponSignal("StepFinished")
        .onInterface(kManagerInterface)
        .call([&](const std::string& path, std::uint64_t id, std::int32_t step,
                  const std::string& action, bool success, const std::string& detail) {
            signals.add(fmt::format("StepFinished '{}' {} {} {} {} {}", path, id, step, action,
                                    success, detail));
        });
    proxy->finishRegistration();
    connection->enterEventLoopAsync();

    // iohealthctl monitor as a second, live witness.
    const std::string monitor_out = (*work_ / "monitor.txt").string();
    testing::Child monitor({IOHEALTHCTL, "--bus-address", bus_->address(), "monitor"}, {}, -1,
                           monitor_out);
    std::this_thread::sleep_for(300ms);  // subscribed

    const auto r = ctl("fence log-only --reason x");
    EXPECT_EQ(r.status, 0) << r.err;
    ASSERT_TRUE(contains(r.out, "host: dry-run: requested log-only started (request ")) << r.out;
    const auto id_at = r.out.find("(request ") + 9;
    const std::string id = r.out.substr(id_at, r.out.find(')', id_at) - id_at);
    EXPECT_TRUE(contains(
        r.out, "host: requested log-only succeeded (request " + id + "): dry-run: would log only"))
        << r.out;

    EXPECT_TRUE(signals.wait_for("StepStarted '' " + id + " 0 log-only true")) << signals.all();
    EXPECT_TRUE(
        signals.wait_for("StepFinished '' " + id + " 0 log-only true dry-run: would log only"))
        << signals.all();
    const std::string events = read_file(event_log());
    EXPECT_TRUE(contains(events, "step-started dry-run: requested log-only started: x (uid 0"))
        << events;
    EXPECT_TRUE(contains(events,
                         "step-succeeded dry-run: requested log-only succeeded: dry-run: "
                         "would log only"))
        << events;

    std::this_thread::sleep_for(200ms);
    monitor.stop();  // SIGTERM, like Ctrl-C
    const std::string seen = read_file(monitor_out);
    EXPECT_TRUE(contains(seen, "host: dry-run: requested log-only started (request " + id + ")"))
        << seen;
    EXPECT_TRUE(contains(seen, "host: requested log-only succeeded (request " + id + ")")) << seen;
    connection->leaveEventLoop();
}

// The guests come from libvirt (test:/// driver): each path lists those with a disk on it, and
// a fence request records every VM on the host, since a reboot takes them all down.
TEST_F(IoHealthCtlTest, ThePathListsItsVmsAndAFenceRecordsTheVmsOfTheHost) {
    json vms;
    for (int i = 0; i < 50 && vms.empty(); ++i, std::this_thread::sleep_for(100ms))
        vms = ctl_json("show disk0")["vms"];
    EXPECT_EQ(vms, json::parse(R"([{"name": "vm-disk0", "state": "running"}])")) << daemon_log();
    EXPECT_EQ(ctl_json("status")["paths"][0]["vms"], vms);
    EXPECT_EQ(ctl_json("explain disk0")["vms"], vms);
    const auto show = ctl("show disk0");
    EXPECT_TRUE(contains(show.out, "vms: vm-disk0 (running)\n")) << show.out;

    const auto r = ctl("fence graceful-reboot --reason vm-check");
    EXPECT_EQ(r.status, 0) << r.err;
    const std::string events = read_file(event_log());
    EXPECT_TRUE(contains(
        events, "step-started dry-run: requested graceful-reboot started: vm-check (uid 0"))
        << events;
    EXPECT_TRUE(contains(events,
                         "; VMs on this host (last known state): vm-disk0 (running), vm-file "
                         "(running)"))
        << events;
    EXPECT_TRUE(contains(daemon_log(),
                         "Graceful reboot (dry-run): 2 VM(s) on this host, state live: vm-disk0 "
                         "(running), vm-file (running)"))
        << daemon_log();
}

TEST_F(IoHealthCtlTest, ReloadRefusesABrokenConfigAndKeepsServing) {
    const std::string good = read_file(config_path());
    std::ofstream(config_path()) << good << "[policy]\nio_timeout = banana\n";
    const auto broken = ctl("reload");
    std::ofstream(config_path()) << good;
    EXPECT_EQ(broken.status, 1);
    EXPECT_TRUE(contains(broken.err, "org.iohealth.IoHealth1.Error.Failed")) << broken.err;
    EXPECT_TRUE(contains(broken.err, config_path() + ":9: [policy] io_timeout: malformed duration"))
        << broken.err;
    EXPECT_EQ(ctl_json("list").size(), 1u);  // still serving, old configuration

    // A valid one with a second path is taken; the first path keeps its monitor.
    std::ofstream(config_path()) << config_text({disk0_, disk1_}, *libvirt_uri_);
    const auto reloaded = ctl("reload");
    std::ofstream(config_path()) << good;
    EXPECT_EQ(reloaded.status, 0) << reloaded.err;
    EXPECT_EQ(reloaded.out, "Configuration reloaded.\n");
    const json list = ctl_json("list");
    ASSERT_EQ(list.size(), 2u) << list.dump();
    EXPECT_EQ(list[1]["name"], "disk1");
    EXPECT_EQ(ctl("reload").status, 0);  // back to one path
    EXPECT_EQ(ctl_json("list").size(), 1u);
}

TEST_F(IoHealthCtlTest, NobodyCanReadButGetsAccessDeniedForChanges) {
    const std::string nobody = "setpriv --reuid=nobody --regid=nogroup --clear-groups ";
    const auto status = ctl("status --json", nobody);
    EXPECT_EQ(status.status, 0) << status.err;
    EXPECT_EQ(json::parse(status.out)["paths"][0]["name"], "disk0");

    for (const std::string verb :
         {"mode arm", "fence reboot --reason x", "test-action reboot", "reload"}) {
        const auto r = ctl(verb, nobody);
        EXPECT_EQ(r.status, 4) << verb << ": " << r.out << r.err;
        EXPECT_TRUE(contains(r.err, "permission denied, this needs root")) << verb << ": " << r.err;
    }
    EXPECT_EQ(mode(), "dry-run");
}

TEST_F(IoHealthCtlTest, RefusalsAndUsageErrorsHaveTheirExitCodes) {
    const auto no_path = ctl("show nope");
    EXPECT_EQ(no_path.status, 1);
    EXPECT_EQ(no_path.err,
              "iohealthctl: Could not read path 'nope': No path 'nope' is monitored "
              "(org.iohealth.IoHealth1.Error.NoSuchPath)\n");
    const auto custom = ctl("test-action custom");
    EXPECT_EQ(custom.status, 1);
    EXPECT_TRUE(contains(custom.err, "No custom command is configured")) << custom.err;
    EXPECT_EQ(ctl("mode sideways").status, 2);
    EXPECT_EQ(ctl("fence log-only").status, 2);  // --reason is required
    EXPECT_EQ(ctl("mode arm --for 5m").status, 2);
    EXPECT_EQ(ctl("mode maintenance --for 5").status, 2);  // a bare number is refused
    EXPECT_EQ(ctl("").status, 2);
    EXPECT_EQ(ctl("--help").status, 0);
}

TEST_F(IoHealthCtlTest, ASecondDaemonCannotTakeTheNameAndExits) {
    const auto second =
        run_status(std::string(IOHEALTHD) + " -c " + config_path() +
                   " --no-bpf --duration 3 --bus-address " + bus_->address() + " --state-dir " +
                   (*work_ / "state2").string() + " --runtime-dir " + (*work_ / "run2").string());
    EXPECT_EQ(second.status, 1);
    EXPECT_TRUE(contains(second.out + second.err, "Failed to publish org.iohealth.IoHealth1"))
        << second.out << second.err;
    EXPECT_EQ(ctl_json("list").size(), 1u);  // the first one serves on
}

// Issue 15, defect 11: an unknown verb was not named ("A subcommand is required"), `--for ""`
// was taken as the default hour, and an empty --bus-address gave a parser-internal message.
TEST(IoHealthCtlUsage, MessagesNameTheMistakeAndExitTwo) {
    const std::string ctl = IOHEALTHCTL;
    const auto verb = run_status(ctl + " frobnicate");
    EXPECT_EQ(verb.status, 2);
    EXPECT_TRUE(verb.err.starts_with("iohealthctl: unknown verb 'frobnicate' (verbs: status, "))
        << verb.err;
    const auto none = run_status(ctl);
    EXPECT_EQ(none.status, 2);
    EXPECT_TRUE(none.err.starts_with("iohealthctl: a verb is required (status, ")) << none.err;
    const auto extra = run_status(ctl + " status extra");
    EXPECT_EQ(extra.status, 2);
    EXPECT_TRUE(extra.err.starts_with("iohealthctl: unexpected argument 'extra' after 'status'"))
        << extra.err;
    // Usage is checked before any bus is tried (this address does not exist).
    const auto length = run_status(ctl +
                                   " --bus-address unix:path=/nonexistent mode maintenance "
                                   "--for '' --reason x");
    EXPECT_EQ(length.status, 2);
    EXPECT_TRUE(contains(length.err, "--for: must not be empty")) << length.err;
    for (const std::string empty : {" --bus-address '' status", " --bus-address= status"}) {
        const auto bus = run_status(ctl + empty);
        EXPECT_EQ(bus.status, 2) << empty;
        EXPECT_TRUE(bus.err.starts_with(
            "--bus-address: must not be empty: omit --bus-address for the system bus"))
            << empty << ": " << bus.err;
    }
}

TEST(IoHealthCtlNoDaemon, SaysPlainlyThatIohealthdIsNotRunning) {
    testing::PrivateBus bus;  // nobody owns org.iohealth.IoHealth1 here
    ASSERT_TRUE(bus.ok());
    const auto r =
        run_status(std::string(IOHEALTHCTL) + " --bus-address " + bus.address() + " status");
    EXPECT_EQ(r.status, 3);
    EXPECT_EQ(r.err,
              "iohealthctl: iohealthd is not running (org.iohealth.IoHealth1 not on the "
              "bus at " +
                  bus.address() + ")\n");
    const auto no_bus =
        run_status(std::string(IOHEALTHCTL) + " --bus-address unix:path=/nonexistent/bus list");
    EXPECT_EQ(no_bus.status, 3);
    EXPECT_TRUE(no_bus.err.starts_with("iohealthctl: iohealthd is not running (cannot connect"))
        << no_bus.err;
}

}  // namespace
}  // namespace iohealth
