// BusService on a real dbus-daemon configured like the system bus with our policy file
// (dbus/org.iohealth.IoHealth1.conf): properties, signals and methods through the generated
// proxy and through busctl; a caller running as nobody can read but not change anything;
// malformed requests get namespaced errors and the service keeps serving.
#include <fmt/format.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/stat.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>

#include "dbus/bus_names.h"
#include "dbus/errors.h"
#include "dbus/iohealth_proxy.h"
#include "dbus/service.h"
#include "system_bus.h"

namespace iohealth {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using testing::PrivateBus;
using testing::run_command;

class FakeHandler final : public ControlHandler {
  public:
    void set_mode(const ModeRequest& c, const Caller& caller) override {
        record(fmt::format("set_mode {} {} '{}' uid={}", c.mode, c.maintenance_for.count(),
                           c.reason, caller.uid));
    }
    std::uint64_t request_fence(Action a, const std::string& reason, const Caller&) override {
        if (reason == "refuse") throw ControlError(BusError::kFailed, "fencing is disarmed");
        record(fmt::format("request_fence {} '{}'", to_string(a), reason));
        return 77;
    }
    std::string test_action(Action a, const Caller&) override {
        if (a == Action::kCustom) throw std::runtime_error("no custom command configured");
        record(fmt::format("test_action {}", to_string(a)));
        return "dry-run: would write 'b' to /proc/sysrq-trigger";
    }
    void reload(const Caller&, ReloadDone done) override {
        record("reload");
        std::string error;
        {
            std::lock_guard lock(mutex_);
            error = reload_error_;
        }
        done(error);
    }
    void refuse_reloads(std::string error) {
        std::lock_guard lock(mutex_);
        reload_error_ = std::move(error);
    }
    void refused(std::string_view method, const Caller& caller, const std::string&) override {
        std::lock_guard lock(mutex_);
        refusals_.push_back(fmt::format("{} uid={}", method, caller.uid));
    }
    std::vector<std::string> refusals() {
        std::lock_guard lock(mutex_);
        return refusals_;
    }
    std::string explain(const std::string& path, bool privileged) override {
        return R"({"path":")" + path + R"(","privileged":)" + (privileged ? "true" : "false") + "}";
    }
    std::vector<std::uint64_t> histogram(const std::string&) override {
        std::vector<std::uint64_t> slots(32, 0);
        slots[3] = 5;
        return slots;
    }
    std::vector<std::string> calls() {
        std::lock_guard lock(mutex_);
        return calls_;
    }

  private:
    void record(std::string s) {
        std::lock_guard lock(mutex_);
        calls_.push_back(std::move(s));
    }
    std::mutex mutex_;
    std::vector<std::string> calls_;
    std::vector<std::string> refusals_;
    std::string reload_error_;
};

// Signals seen by a client, as text, in arrival order.
class Events {
  public:
    void add(std::string e) {
        {
            std::lock_guard lock(mutex_);
            events_.push_back(std::move(e));
        }
        cv_.notify_all();
    }
    bool wait_for(const std::string& e, std::chrono::milliseconds timeout = 5s) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, timeout, [&] {
            return std::find(events_.begin(), events_.end(), e) != events_.end();
        });
    }
    std::vector<std::string> all() {
        std::lock_guard lock(mutex_);
        return events_;
    }

  private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<std::string> events_;
};

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
    return s;
}

class ManagerClient final
    : public sdbus::ProxyInterfaces<org::iohealth::IoHealth1::Manager_proxy,
                                    sdbus::Properties_proxy, sdbus::ObjectManager_proxy> {
  public:
    ManagerClient(sdbus::IConnection& c, Events& events)
        : ProxyInterfaces(c, kBusName, kManagerPath), events_(events) {
        registerProxy();
    }
    ~ManagerClient() { unregisterProxy(); }

  private:
    void onVerdictChanged(const std::string& path, const std::string& old_verdict,
                          const std::string& verdict, const std::string& reason) override {
        events_.add(fmt::format("VerdictChanged {} {} {} {}", path, old_verdict, verdict, reason));
    }
    void onEscalationStarted(const std::string& path, const std::string& reason) override {
        events_.add(fmt::format("EscalationStarted {} {}", path, reason));
    }
    void onStepStarted(const std::string& path, const uint64_t& id, const int32_t& step,
                       const std::string& action, const bool& dry_run) override {
        events_.add(fmt::format("StepStarted {} {} {} {} {}", path, id, step, action, dry_run));
    }
    void onStepFinished(const std::string& path, const uint64_t& id, const int32_t& step,
                        const std::string& action, const bool& success,
                        const std::string& detail) override {
        events_.add(
            fmt::format("StepFinished {} {} {} {} {} {}", path, id, step, action, success, detail));
    }
    void onEscalationAverted(const std::string& path, const std::string& reason) override {
        events_.add(fmt::format("EscalationAverted {} {}", path, reason));
    }
    void onPropertiesChanged(const std::string& iface,
                             const std::map<std::string, sdbus::Variant>& changed,
                             const std::vector<std::string>&) override {
        std::vector<std::string> names;
        for (const auto& [name, value] : changed) names.push_back(name);
        events_.add("ManagerChanged " + iface + " " + join(names));
    }
    void onInterfacesAdded(
        const sdbus::ObjectPath& object,
        const std::map<std::string, std::map<std::string, sdbus::Variant>>&) override {
        events_.add("Added " + std::string(object));
    }
    void onInterfacesRemoved(const sdbus::ObjectPath& object,
                             const std::vector<std::string>&) override {
        events_.add("Removed " + std::string(object));
    }

    Events& events_;
};

class PathClient final
    : public sdbus::ProxyInterfaces<org::iohealth::IoHealth1::Path_proxy, sdbus::Properties_proxy> {
  public:
    PathClient(sdbus::IConnection& c, const std::string& object, Events& events)
        : ProxyInterfaces(c, kBusName, object), events_(events) {
        registerProxy();
    }
    ~PathClient() { unregisterProxy(); }

  private:
    void onPropertiesChanged(const std::string&,
                             const std::map<std::string, sdbus::Variant>& changed,
                             const std::vector<std::string>&) override {
        std::vector<std::string> names;  // std::map: sorted by name
        for (const auto& [name, value] : changed) names.push_back(name);
        events_.add("PathChanged " + join(names));
    }
    Events& events_;
};

PathStatus healthy(const std::string& name) {
    PathStatus s;
    s.name = name;
    s.kind = "device";
    s.target = "/dev/" + name;
    s.verdict = "HEALTHY";
    s.reason = "completions flowing";
    s.latency_p50_usec = 128;
    s.latency_p99_usec = 4096;
    s.in_flight = 2;
    return s;
}

// One system-like bus and one service for the whole suite (as iohealthd would run).
class DbusServiceTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        if (geteuid() != 0) return;  // each test skips (SetUp): only root may own the name
        bus_ = new testing::SystemLikeBus;
        if (!bus_->ok()) return;
        // The daemon's own code path: createSystemBusConnection() honours this variable.
        setenv("DBUS_SYSTEM_BUS_ADDRESS", bus_->address().c_str(), 1);
        handler_ = new FakeHandler;
        service_connection_ = sdbus::createSystemBusConnection().release();
        service_ = new BusService(*service_connection_, *handler_, "0.1.0-test");
        service_connection_->requestName(kBusName);
        service_connection_->enterEventLoopAsync();
    }
    static void TearDownTestSuite() {
        if (service_connection_) service_connection_->leaveEventLoop();
        delete service_;
        delete service_connection_;
        delete handler_;
        delete bus_;
    }
    void SetUp() override {
        if (geteuid() != 0)
            GTEST_SKIP() << "needs root: changes are root-only and callers switch to nobody";
        ASSERT_TRUE(bus_->ok()) << "dbus-daemon did not start";
        service_->update({healthy("dm-0"), healthy("nfs-primary")});
        service_->set_manager({"armed", 0});
        client_ = sdbus::createSessionBusConnectionWithAddress(bus_->address());
        client_->enterEventLoopAsync();
        manager_ = std::make_unique<ManagerClient>(*client_, events_);
    }
    void TearDown() override {
        manager_.reset();
        if (client_) client_->leaveEventLoop();
    }

    // busctl against the private bus, as root.
    std::string busctl(const std::string& args) {
        return run_command("busctl --address=" + bus_->address() + " " + args);
    }
    // dbus_call.py as uid nobody.
    std::string call_as_nobody(const std::string& args) {
        return run_command("setpriv --reuid=nobody --regid=nogroup --clear-groups " +
                           std::string(testing::kDebianPython) + " " +
                           (bus_->dir() / "dbus_call.py").string() + " " + bus_->address() + " " +
                           args);
    }
    std::string error_name_of(const std::function<void()>& call) {
        try {
            call();
        } catch (const sdbus::Error& e) {
            return e.getName();
        }
        return "no error";
    }

    static inline testing::SystemLikeBus* bus_ = nullptr;
    static inline FakeHandler* handler_ = nullptr;
    static inline sdbus::IConnection* service_connection_ = nullptr;
    static inline BusService* service_ = nullptr;

    Events events_;
    std::unique_ptr<sdbus::IConnection> client_;
    std::unique_ptr<ManagerClient> manager_;
};

TEST_F(DbusServiceTest, PathObjectsAreEncodedLikeSystemdUnits) {
    EXPECT_EQ(path_object("dm-0"), "/org/iohealth/IoHealth1/path/dm_2d0");
    EXPECT_EQ(path_name("/org/iohealth/IoHealth1/path/dm_2d0"), "dm-0");
    EXPECT_EQ(path_name("/org/iohealth/IoHealth1/other/x"), "");
    EXPECT_EQ(manager_->GetPath("dm-0"), "/org/iohealth/IoHealth1/path/dm_2d0");
}

TEST_F(DbusServiceTest, PropertiesThroughTheGeneratedProxy) {
    EXPECT_EQ(manager_->Version(), "0.1.0-test");
    EXPECT_EQ(manager_->Mode(), "armed");
    PathClient path(*client_, manager_->GetPath("dm-0"), events_);
    EXPECT_EQ(path.Name(), "dm-0");
    EXPECT_EQ(path.Kind(), "device");
    EXPECT_EQ(path.Target(), "/dev/dm-0");
    EXPECT_EQ(path.Verdict(), "HEALTHY");
    EXPECT_EQ(path.LatencyP99USec(), 4096u);
    EXPECT_EQ(path.InFlight(), 2u);
    EXPECT_EQ(path.EscalationStep(), 0);

    const auto paths = manager_->ListPaths();
    ASSERT_EQ(paths.size(), 2u);
    EXPECT_EQ(paths[0].get<0>(), "dm-0");
    EXPECT_EQ(paths[0].get<2>(), "HEALTHY");
    EXPECT_EQ(std::string(paths[1].get<3>()), "/org/iohealth/IoHealth1/path/nfs_2dprimary");
}

TEST_F(DbusServiceTest, PropertiesChangedNamesExactlyWhatChanged) {
    PathClient path(*client_, manager_->GetPath("dm-0"), events_);
    auto status = healthy("dm-0");
    service_->update({status, healthy("nfs-primary")});  // nothing changed: no signal
    status.verdict = "STALLED";
    status.reason = "no completion for 6s";
    status.escalation_step = 1;
    status.fence_by_usec = 1'700'000'000'000'000;
    service_->update({status, healthy("nfs-primary")});
    ASSERT_TRUE(events_.wait_for("PathChanged EscalationStep,FenceByUSec,Reason,Verdict"))
        << join(events_.all());
    EXPECT_EQ(path.Verdict(), "STALLED");
    EXPECT_EQ(path.FenceByUSec(), 1'700'000'000'000'000u);
    service_->set_manager({"maintenance", 1'700'000'000'000'000});
    ASSERT_TRUE(
        events_.wait_for("ManagerChanged org.iohealth.IoHealth1.Manager MaintenanceUntilUSec,Mode"))
        << join(events_.all());
    // Only the changes; none for the unchanged update.
    std::size_t path_changes = 0;
    for (const auto& e : events_.all()) path_changes += e.starts_with("PathChanged");
    EXPECT_EQ(path_changes, 1u) << join(events_.all());
}

TEST_F(DbusServiceTest, EachPathListsItsVmsAndSignalsWhenTheyChange) {
    PathClient path(*client_, manager_->GetPath("dm-0"), events_);
    EXPECT_TRUE(path.Vms().empty());
    auto status = healthy("dm-0");
    status.vms = {{"i-2-87-VM", "running"}, {"r-78-VM", "paused (I/O error)"}};
    service_->update({status, healthy("nfs-primary")});
    ASSERT_TRUE(events_.wait_for("PathChanged Vms")) << join(events_.all());
    const auto vms = path.Vms();
    ASSERT_EQ(vms.size(), 2u);
    EXPECT_EQ(vms[1].get<0>(), "r-78-VM");
    EXPECT_EQ(vms[1].get<1>(), "paused (I/O error)");
    EXPECT_EQ(busctl("get-property org.iohealth.IoHealth1 /org/iohealth/IoHealth1/path/dm_2d0 "
                     "org.iohealth.IoHealth1.Path Vms"),
              "a(ss) 2 \"i-2-87-VM\" \"running\" \"r-78-VM\" \"paused (I/O error)\"\n");
    service_->update({healthy("dm-0"), healthy("nfs-primary")});
}

TEST_F(DbusServiceTest, ObjectManagerTracksPathsComingAndGoing) {
    service_->update({healthy("dm-0"), healthy("nfs-primary"), healthy("drbd-r0")});
    ASSERT_TRUE(events_.wait_for("Added /org/iohealth/IoHealth1/path/drbd_2dr0"));
    EXPECT_EQ(manager_->GetManagedObjects().size(), 3u);
    service_->update({healthy("dm-0")});
    ASSERT_TRUE(events_.wait_for("Removed /org/iohealth/IoHealth1/path/nfs_2dprimary"));
    ASSERT_TRUE(events_.wait_for("Removed /org/iohealth/IoHealth1/path/drbd_2dr0"));
    EXPECT_EQ(manager_->GetManagedObjects().size(), 1u);
    EXPECT_EQ(error_name_of([&] { manager_->GetPath("nfs-primary"); }),
              "org.iohealth.IoHealth1.Error.NoSuchPath");
}

TEST_F(DbusServiceTest, SignalsCarryTheirArguments) {
    service_->emit_verdict_changed("dm-0", "HEALTHY", "DEAD", "no progress for 25s");
    service_->emit_escalation_started("dm-0", "DEAD");
    service_->emit_step_started("dm-0", 5, 2, "restart-agent", false);
    service_->emit_step_finished("dm-0", 5, 2, "restart-agent", false,
                                 "job /org/freedesktop/systemd1/job/9 finished with result "
                                 "'failed'");
    service_->emit_escalation_averted("dm-0", "progress resumed");
    ASSERT_TRUE(events_.wait_for("EscalationAverted dm-0 progress resumed"));
    EXPECT_EQ(events_.all(),
              (std::vector<std::string>{
                  "VerdictChanged dm-0 HEALTHY DEAD no progress for 25s",
                  "EscalationStarted dm-0 DEAD", "StepStarted dm-0 5 2 restart-agent false",
                  "StepFinished dm-0 5 2 restart-agent false job "
                  "/org/freedesktop/systemd1/job/9 finished with result 'failed'",
                  "EscalationAverted dm-0 progress resumed"}));
}

TEST_F(DbusServiceTest, RootCanChangeThingsAndTheHandlerSeesTheCaller) {
    manager_->SetMode("maintenance", 600'000'000, "disk swap");
    EXPECT_EQ(manager_->RequestFence("reboot", "operator request"), 77u);
    EXPECT_EQ(manager_->TestAction("reboot"), "dry-run: would write 'b' to /proc/sysrq-trigger");
    manager_->Reload();
    EXPECT_EQ(manager_->Explain("dm-0"), R"({"path":"dm-0","privileged":true})");
    const auto slots = manager_->GetHistogram("dm-0");
    ASSERT_EQ(slots.size(), 32u);
    EXPECT_EQ(slots[3], 5u);
    const auto calls = handler_->calls();
    ASSERT_GE(calls.size(), 4u);
    EXPECT_EQ(std::vector<std::string>(calls.end() - 4, calls.end()),
              (std::vector<std::string>{"set_mode maintenance 600000000 'disk swap' uid=0",
                                        "request_fence reboot 'operator request'",
                                        "test_action reboot", "reload"}));
}

TEST_F(DbusServiceTest, RefusedReloadIsAFailedErrorWithTheHandlersText) {
    handler_->refuse_reloads("/etc/iohealth/iohealthd.conf:3: [policy] io_timeout: not a duration");
    std::string name, message;
    try {
        manager_->Reload();
    } catch (const sdbus::Error& e) {
        name = e.getName();
        message = e.getMessage();
    }
    handler_->refuse_reloads("");
    EXPECT_EQ(name, "org.iohealth.IoHealth1.Error.Failed");
    EXPECT_EQ(message, "/etc/iohealth/iohealthd.conf:3: [policy] io_timeout: not a duration");
    manager_->Reload();  // and the next one succeeds
}

TEST_F(DbusServiceTest, MalformedRequestsGetNamespacedErrorsAndServiceKeepsServing) {
    const std::string invalid = "org.iohealth.IoHealth1.Error.InvalidArgument";
    const auto calls_before = handler_->calls().size();
    EXPECT_EQ(error_name_of([&] { manager_->SetMode("yolo", 0, "x"); }), invalid);
    EXPECT_EQ(error_name_of([&] { manager_->SetMode("armed", 5, "x"); }), invalid);
    EXPECT_EQ(error_name_of([&] { manager_->SetMode("armed", 0, ""); }), invalid);
    EXPECT_EQ(error_name_of([&] { manager_->RequestFence("nuke", "x"); }), invalid);
    EXPECT_EQ(error_name_of([&] { manager_->RequestFence("reboot", ""); }), invalid);
    EXPECT_EQ(error_name_of([&] { manager_->Explain("nope"); }),
              "org.iohealth.IoHealth1.Error.NoSuchPath");
    EXPECT_EQ(error_name_of([&] { manager_->GetHistogram("nope"); }),
              "org.iohealth.IoHealth1.Error.NoSuchPath");
    // A handler refusal keeps its name; any other exception becomes Internal, not an abort.
    EXPECT_EQ(error_name_of([&] { manager_->RequestFence("reboot", "refuse"); }),
              "org.iohealth.IoHealth1.Error.Failed");
    EXPECT_EQ(error_name_of([&] { manager_->TestAction("custom"); }),
              "org.iohealth.IoHealth1.Error.Internal");
    // Wrong argument types never reach the handler.
    const auto wrong_types = busctl(
        "call org.iohealth.IoHealth1 /org/iohealth/IoHealth1 "
        "org.iohealth.IoHealth1.Manager SetMode sss armed 0 x");
    EXPECT_TRUE(wrong_types.starts_with("Call failed: ")) << wrong_types;
    EXPECT_EQ(handler_->calls().size(), calls_before);
    EXPECT_EQ(manager_->ListPaths().size(), 2u);
    EXPECT_EQ(manager_->Mode(), "armed");
}

TEST_F(DbusServiceTest, BusctlSeesPropertiesMethodsAndTheTree) {
    EXPECT_EQ(busctl("get-property org.iohealth.IoHealth1 /org/iohealth/IoHealth1/path/dm_2d0 "
                     "org.iohealth.IoHealth1.Path Verdict"),
              "s \"HEALTHY\"\n");
    EXPECT_EQ(busctl("get-property org.iohealth.IoHealth1 /org/iohealth/IoHealth1 "
                     "org.iohealth.IoHealth1.Manager Mode"),
              "s \"armed\"\n");
    EXPECT_EQ(busctl("call org.iohealth.IoHealth1 /org/iohealth/IoHealth1 "
                     "org.iohealth.IoHealth1.Manager ListPaths"),
              "a(ssso) 2 \"dm-0\" \"device\" \"HEALTHY\" \"/org/iohealth/IoHealth1/path/dm_2d0\" "
              "\"nfs-primary\" \"device\" \"HEALTHY\" "
              "\"/org/iohealth/IoHealth1/path/nfs_2dprimary\"\n");
    const auto tree = busctl("tree --list org.iohealth.IoHealth1");
    EXPECT_NE(tree.find("/org/iohealth/IoHealth1/path/nfs_2dprimary"), std::string::npos) << tree;
    EXPECT_EQ(busctl("call org.iohealth.IoHealth1 /org/iohealth/IoHealth1 "
                     "org.iohealth.IoHealth1.Manager GetPath s nope"),
              "Call failed: No path 'nope' is monitored\n");
}

TEST_F(DbusServiceTest, NobodyCanReadButNotChange) {
    const std::string manager = "org.iohealth.IoHealth1 /org/iohealth/IoHealth1 ";
    const std::string mgr_iface = "org.iohealth.IoHealth1.Manager ";
    EXPECT_EQ(call_as_nobody("org.iohealth.IoHealth1 /org/iohealth/IoHealth1/path/dm_2d0 "
                             "org.freedesktop.DBus.Properties Get ss "
                             "org.iohealth.IoHealth1.Path Verdict"),
              "ok HEALTHY\n");
    EXPECT_TRUE(call_as_nobody(manager + mgr_iface + "ListPaths ''").starts_with("ok "));
    // Explain reaches the handler as unprivileged: command lines are cut to the executable.
    EXPECT_EQ(call_as_nobody(manager + mgr_iface + "Explain s dm-0"),
              "ok {\"path\":\"dm-0\",\"privileged\":false}\n");
    EXPECT_TRUE(call_as_nobody(manager + "org.freedesktop.DBus.Introspectable Introspect ''")
                    .starts_with("ok "));

    const auto calls_before = handler_->calls().size();
    for (const std::string& call :
         {mgr_iface + "SetMode sts disarmed 0 x", mgr_iface + "RequestFence ss reboot x",
          mgr_iface + "TestAction s reboot", mgr_iface + "Reload ''",
          std::string("org.freedesktop.DBus.Properties Set ssv "
                      "org.iohealth.IoHealth1.Manager Mode armed")}) {
        const auto out = call_as_nobody(manager + call);
        EXPECT_TRUE(out.starts_with("error org.freedesktop.DBus.Error.AccessDenied"))
            << call << " -> " << out;
    }
    EXPECT_EQ(handler_->calls().size(), calls_before);
    EXPECT_EQ(manager_->Mode(), "armed");
}

// Without our bus policy (an open bus) the service's own check still refuses non-root.
TEST(DbusServiceOpenBus, NonRootIsRefusedByTheServiceItself) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to act as nobody";
    PrivateBus bus;
    ASSERT_TRUE(bus.ok());
    fs::permissions(bus.dir(), fs::perms::others_read | fs::perms::others_exec,
                    fs::perm_options::add);
    FakeHandler handler;
    auto connection = sdbus::createSessionBusConnectionWithAddress(bus.address());
    BusService service(*connection, handler, "test");
    connection->requestName(kBusName);
    connection->enterEventLoopAsync();
    const auto out = run_command(
        "setpriv --reuid=nobody --regid=nogroup --clear-groups " +
        std::string(testing::kDebianPython) + " " + IOHEALTH_SOURCE_DIR +
        "/tests/integration/dbus_call.py " + bus.address() +
        " org.iohealth.IoHealth1 /org/iohealth/IoHealth1 org.iohealth.IoHealth1.Manager "
        "SetMode sts disarmed 0 x");
    EXPECT_EQ(out,
              "error org.iohealth.IoHealth1.Error.AccessDenied: SetMode needs root (caller uid "
              "65534)\n");
    EXPECT_TRUE(handler.calls().empty());
    connection->leaveEventLoop();
}

// ---- the admin group ----

// An existing system group that nobody is not in, so no test touches /etc/group: the caller
// gains it only through `setpriv --groups`.
std::optional<group> group_nobody_lacks() {
    int n = 64;
    std::vector<gid_t> nobody_groups(n);
    if (getgrouplist("nobody", 65534, nobody_groups.data(), &n) < 0) return std::nullopt;
    nobody_groups.resize(n);
    for (const char* name : {"dialout", "floppy", "tape", "fax", "voice", "cdrom"}) {
        const group* g = getgrnam(name);
        if (g &&
            std::find(nobody_groups.begin(), nobody_groups.end(), g->gr_gid) == nobody_groups.end())
            return *g;
    }
    return std::nullopt;
}

// The shipped <policy group="iohealth"> block, renamed to `name`: the drop-in docs/dbus-api.md
// tells admins with another admin_group to install.
std::string admin_dropin(const std::string& name) {
    std::ifstream in(fs::path(IOHEALTH_SOURCE_DIR) / "dbus/org.iohealth.IoHealth1.conf");
    const std::string conf(std::istreambuf_iterator<char>(in), {});
    const std::string open = R"(<policy group="iohealth">)";
    const auto begin = conf.find(open, conf.find("<busconfig>"));
    const auto end = conf.find("</policy>", begin);
    if (begin == std::string::npos || end == std::string::npos) return "";
    return "<busconfig>\n  <policy group=\"" + name + "\">" +
           conf.substr(begin + open.size(), end - begin - open.size()) +
           "</policy>\n</busconfig>\n";
}

// dbus_call.py as uid nobody, group nogroup, with `groups` ("--clear-groups" or
// "--groups=GID") as its supplementary groups.
std::string call_as(const std::string& address, const std::string& script,
                    const std::string& groups, const std::string& args) {
    return run_command("setpriv --reuid=nobody --regid=nogroup " + groups + " " +
                       std::string(testing::kDebianPython) + " " + script + " " + address +
                       " org.iohealth.IoHealth1 /org/iohealth/IoHealth1 " + args);
}

const std::string kMgr = "org.iohealth.IoHealth1.Manager ";

// On the system-like bus with the shipped policy plus the admin drop-in for a real group.
TEST(DbusAdminGroup, MembersMayChangeThingsNonMembersMayNot) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to own the name and act as nobody";
    const auto admin = group_nobody_lacks();
    if (!admin) GTEST_SKIP() << "no system group found that nobody is not in";
    const std::string name = admin->gr_name;
    const std::string member = fmt::format("--groups={}", admin->gr_gid);
    const std::string dropin = admin_dropin(name);
    ASSERT_FALSE(dropin.empty()) << "no <policy group=\"iohealth\"> in the shipped policy";

    testing::SystemLikeBus bus(dropin);
    ASSERT_TRUE(bus.ok()) << "dbus-daemon did not start";
    std::string problem;
    const AdminGroup group = resolve_admin_group(name, problem);
    ASSERT_TRUE(group.gid) << problem;
    EXPECT_EQ(*group.gid, admin->gr_gid);
    FakeHandler handler;
    auto connection = sdbus::createSessionBusConnectionWithAddress(bus.address());
    BusService service(*connection, handler, "test", group);
    service.update({healthy("dm-0")});
    connection->requestName(kBusName);
    connection->enterEventLoopAsync();
    const std::string script = (bus.dir() / "dbus_call.py").string();

    // A member: both layers let it through.
    EXPECT_EQ(call_as(bus.address(), script, member, kMgr + "SetMode sts disarmed 0 swap"),
              "ok None\n");
    EXPECT_EQ(call_as(bus.address(), script, member, kMgr + "RequestFence ss log-only drill"),
              "ok 77\n");
    EXPECT_TRUE(call_as(bus.address(), script, member, kMgr + "TestAction s reboot")
                    .starts_with("ok dry-run"));
    EXPECT_EQ(call_as(bus.address(), script, member, kMgr + "Reload ''"), "ok None\n");
    EXPECT_EQ(handler.calls(), (std::vector<std::string>{"set_mode disarmed 0 'swap' uid=65534",
                                                         "request_fence log-only 'drill'",
                                                         "test_action reboot", "reload"}));
    // Still no writable property for anyone.
    EXPECT_TRUE(call_as(bus.address(), script, member,
                        "org.freedesktop.DBus.Properties Set ssv org.iohealth.IoHealth1.Manager "
                        "Mode armed")
                    .starts_with("error org.freedesktop.DBus.Error.AccessDenied"));

    // A non-member: the bus policy refuses; reads still work.
    for (const std::string& call : {kMgr + "SetMode sts disarmed 0 x",
                                    kMgr + "RequestFence ss reboot x", kMgr + "Reload ''"}) {
        const auto out = call_as(bus.address(), script, "--clear-groups", call);
        EXPECT_TRUE(
            out.starts_with("error org.freedesktop.DBus.Error.AccessDenied: Rejected send "
                            "message"))
            << call << " -> " << out;
    }
    EXPECT_TRUE(
        call_as(bus.address(), script, "--clear-groups", kMgr + "ListPaths ''").starts_with("ok "));
    EXPECT_EQ(handler.calls().size(), 4u);

    // Root still can.
    auto root = sdbus::createSessionBusConnectionWithAddress(bus.address());
    auto proxy = sdbus::createProxy(*root, kBusName, kManagerPath);
    proxy->callMethod("SetMode")
        .onInterface(kManagerInterface)
        .withArguments(std::string("armed"), std::uint64_t(0), std::string("done"));
    EXPECT_EQ(handler.calls().back(), "set_mode armed 0 'done' uid=0");
    connection->leaveEventLoop();
}

// On an open bus (no policy at all) the service's own check tells members from non-members.
TEST(DbusAdminGroup, TheServiceItselfChecksMembership) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to act as nobody";
    const auto admin = group_nobody_lacks();
    if (!admin) GTEST_SKIP() << "no system group found that nobody is not in";
    const std::string name = admin->gr_name;
    PrivateBus bus;
    ASSERT_TRUE(bus.ok());
    fs::permissions(bus.dir(), fs::perms::others_read | fs::perms::others_exec,
                    fs::perm_options::add);
    std::string problem;
    FakeHandler handler;
    auto connection = sdbus::createSessionBusConnectionWithAddress(bus.address());
    BusService service(*connection, handler, "test", resolve_admin_group(name, problem));
    connection->requestName(kBusName);
    connection->enterEventLoopAsync();
    const std::string script = std::string(IOHEALTH_SOURCE_DIR) + "/tests/integration/dbus_call.py";

    const std::string refused =
        "error org.iohealth.IoHealth1.Error.AccessDenied: {} needs root "
        "or membership of group '" +
        name + "' (caller uid 65534)\n";
    EXPECT_EQ(call_as(bus.address(), script, "--clear-groups", kMgr + "SetMode sts disarmed 0 x"),
              fmt::format(fmt::runtime(refused), "SetMode"));
    EXPECT_EQ(call_as(bus.address(), script, "--clear-groups", kMgr + "RequestFence ss reboot x"),
              fmt::format(fmt::runtime(refused), "RequestFence"));
    EXPECT_EQ(call_as(bus.address(), script, "--clear-groups", kMgr + "Reload ''"),
              fmt::format(fmt::runtime(refused), "Reload"));
    EXPECT_TRUE(handler.calls().empty());

    const std::string member = fmt::format("--groups={}", admin->gr_gid);
    EXPECT_EQ(call_as(bus.address(), script, member, kMgr + "SetMode sts disarmed 0 x"),
              "ok None\n");
    EXPECT_EQ(call_as(bus.address(), script, member, kMgr + "RequestFence ss reboot x"), "ok 77\n");
    // The group as the primary group counts too, as it does for dbus-daemon's policy.
    EXPECT_EQ(run_command(fmt::format("setpriv --reuid=nobody --regid={} --clear-groups {} {} {} "
                                      "org.iohealth.IoHealth1 /org/iohealth/IoHealth1 {}Reload ''",
                                      admin->gr_gid, testing::kDebianPython, script, bus.address(),
                                      kMgr)),
              "ok None\n");
    EXPECT_EQ(handler.calls(), (std::vector<std::string>{"set_mode disarmed 0 'x' uid=65534",
                                                         "request_fence reboot 'x'", "reload"}));
    connection->leaveEventLoop();
}

TEST(DbusAdminGroup, ResolvingNamesTheProblem) {
    std::string problem;
    const AdminGroup none = resolve_admin_group("", problem);
    EXPECT_FALSE(none.gid);
    EXPECT_EQ(problem, "");
    const AdminGroup root = resolve_admin_group("root", problem);
    EXPECT_EQ(root.gid, gid_t(0));
    const AdminGroup missing = resolve_admin_group("iohealth-no-such-group", problem);
    EXPECT_FALSE(missing.gid);
    EXPECT_EQ(problem, "no such group");
}

// A configured group the host does not know leaves root only, and the refusal says why.
TEST(DbusAdminGroup, UnknownGroupMeansRootOnly) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to act as nobody";
    PrivateBus bus;
    ASSERT_TRUE(bus.ok());
    fs::permissions(bus.dir(), fs::perms::others_read | fs::perms::others_exec,
                    fs::perm_options::add);
    std::string problem;
    FakeHandler handler;
    auto connection = sdbus::createSessionBusConnectionWithAddress(bus.address());
    BusService service(*connection, handler, "test",
                       resolve_admin_group("iohealth-no-such-group", problem));
    connection->requestName(kBusName);
    connection->enterEventLoopAsync();
    EXPECT_EQ(
        call_as(bus.address(), std::string(IOHEALTH_SOURCE_DIR) + "/tests/integration/dbus_call.py",
                "--groups=0", kMgr + "SetMode sts disarmed 0 x"),
        "error org.iohealth.IoHealth1.Error.AccessDenied: SetMode needs root (admin group "
        "'iohealth-no-such-group' was not known to this host when iohealthd started; if it has "
        "been created since, restart iohealthd) (caller uid 65534)\n");
    EXPECT_TRUE(handler.calls().empty());
    EXPECT_EQ(handler.refusals(), std::vector<std::string>{"SetMode uid=65534"});
    connection->leaveEventLoop();
}

TEST(BusErrors, OneTableBothWays) {
    for (auto e : {BusError::kNoSuchPath, BusError::kInvalidArgument, BusError::kAccessDenied,
                   BusError::kFailed, BusError::kInternal}) {
        const auto name = error_name(e);
        EXPECT_TRUE(name.starts_with("org.iohealth.IoHealth1.Error.")) << name;
        EXPECT_EQ(bus_error_from_name(name), e);
    }
    EXPECT_EQ(bus_error_from_name("org.freedesktop.DBus.Error.AccessDenied"), std::nullopt);
}

}  // namespace
}  // namespace iohealth
