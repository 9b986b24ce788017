// Issue 15, the daemon's inputs, through the real iohealthd: configuration files it cannot
// read exactly are refused by `--check-config` with file:line and the rule broken; a
// monitored loop device that is detached, replaced at the same number or whose backing file
// is deleted is reported as that, in the log and in the path's reason (read with iohealthctl
// on a system-like private bus).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "dbus/bus_names.h"
#include "loop_device.h"
#include "system_bus.h"
#include "temp_dir.h"

namespace iohealth {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::run_status;

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// `iohealthd --check-config -c FILE`, cut after 20 s so a hang fails instead of blocking.
CommandResult check_config(const fs::path& file) {
    return run_status("timeout 20 " + std::string(IOHEALTHD) + " --check-config -c '" +
                      file.string() + "'");
}

class ConfigInputTest : public ::testing::Test {
  protected:
    void write(const fs::path& relative, const std::string& text) {
        std::ofstream(root_ / relative, std::ios::binary) << text;
    }
    fs::path main() const { return root_ / "iohealthd.conf"; }
    testing::TempDir dir_;
    const fs::path root_ = dir_.path();
};

TEST_F(ConfigInputTest, TextAfterASectionHeaderIsRefused) {
    write("iohealthd.conf", "[daemon]\nmode = armed\n[policy] ladder = log-only\n");
    const CommandResult r = check_config(main());
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(contains(r.err, main().string() + ":3: text after the section header's ']'"))
        << r.err;
}

TEST_F(ConfigInputTest, CrOnlyLineEndingsAreRefused) {
    write("iohealthd.conf", "[daemon]\rmode = armed\r[policy]\rladder = log-only\r");
    const CommandResult r = check_config(main());
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(contains(r.err, main().string() + ":1: carriage return without a line feed"))
        << r.err;
}

TEST_F(ConfigInputTest, DevZeroIsRefusedWithoutReadingIt) {
    const CommandResult r = check_config("/dev/zero");
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(contains(r.err, "/dev/zero: not a regular file (a character device)")) << r.err;
}

TEST_F(ConfigInputTest, FifoIsRefusedWithoutHanging) {
    ASSERT_EQ(mkfifo(main().c_str(), 0600), 0);
    const CommandResult r = check_config(main());
    EXPECT_EQ(r.status, 1) << "124 means it hung until timeout(1) killed it";
    EXPECT_TRUE(contains(r.err, main().string() + ": not a regular file (a FIFO)")) << r.err;
}

TEST_F(ConfigInputTest, OversizedFileIsRefused) {
    write("iohealthd.conf", "[policy]\n" + std::string(2 << 20, '#') + "\n");
    const CommandResult r = check_config(main());
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(contains(r.err, main().string() + ": larger than 1024 KiB")) << r.err;
}

TEST_F(ConfigInputTest, DropInsThatAreNotRegularFilesAreRefused) {
    write("iohealthd.conf", "[policy]\nio_timeout = 10s\n");
    const fs::path d = root_ / "iohealthd.conf.d";
    fs::create_directory(d);
    ASSERT_EQ(mkfifo((d / "fifo.conf").c_str(), 0600), 0);
    fs::create_symlink(root_ / "missing.conf", d / "dangling.conf");
    fs::create_directory(d / "x.conf");
    const CommandResult r = check_config(main());
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(contains(r.err, (d / "fifo.conf").string() + ": not a regular file (a FIFO)"))
        << r.err;
    EXPECT_TRUE(contains(
        r.err, (d / "dangling.conf").string() + ": cannot read: dangling symbolic link to"))
        << r.err;
    EXPECT_TRUE(contains(r.err, (d / "x.conf").string() + ": not a regular file (a directory)"))
        << r.err;
    EXPECT_TRUE(contains(r.err, "configuration refused (3 errors)")) << r.err;
}

// --- device loss, replacement, deleted backing file ---

using namespace std::chrono_literals;
using nlohmann::json;

// A loop device at a number of our choosing, far above the ones LOOP_CTL_GET_FREE hands out
// (the lowest unbound): between a detach and the next attach at the same number, other tests
// on this machine do not take it. Removed (LOOP_CTL_REMOVE) at the end.
class NumberedLoop {
  public:
    NumberedLoop() : number_(200 + ::getpid() % 50), node_("/dev/loop" + std::to_string(number_)) {
        const int control = ::open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        if (control >= 0) {
            ::ioctl(control, LOOP_CTL_ADD, number_);  // EEXIST: it is there already
            ::close(control);
        }
    }
    NumberedLoop(const NumberedLoop&) = delete;
    NumberedLoop& operator=(const NumberedLoop&) = delete;
    ~NumberedLoop() {
        detach();
        const int control = ::open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        if (control < 0) return;
        for (int i = 0; i < 50 && ::ioctl(control, LOOP_CTL_REMOVE, number_) != 0 && errno == EBUSY;
             ++i)
            std::this_thread::sleep_for(20ms);
        ::close(control);
    }
    // As `losetup /dev/loopN FILE`.
    bool attach(const std::string& backing) {
        const int file = ::open(backing.c_str(), O_RDWR | O_CLOEXEC);
        const int fd = ::open(node_.c_str(), O_RDWR | O_CLOEXEC);
        loop_config config{};
        config.fd = static_cast<__u32>(file);
        const bool ok = file >= 0 && fd >= 0 && ::ioctl(fd, LOOP_CONFIGURE, &config) == 0;
        if (fd >= 0) ::close(fd);
        if (file >= 0) ::close(file);
        return ok;
    }
    // As `losetup -d /dev/loopN`.
    void detach() {
        const int fd = ::open(node_.c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0) return;
        for (int i = 0; i < 50 && ::ioctl(fd, LOOP_CLR_FD) != 0 && errno == EBUSY; ++i)
            std::this_thread::sleep_for(20ms);
        ::close(fd);
    }
    const std::string& node() const { return node_; }
    std::string name() const { return node_.substr(5); }

  private:
    int number_;
    std::string node_;
};

class DeviceFateTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (geteuid() != 0) GTEST_SKIP() << "needs root: loop devices and the bus name";
        bus_ = std::make_unique<testing::SystemLikeBus>();
        ASSERT_TRUE(bus_->ok()) << "dbus-daemon did not start";
        work_ = fs::path(bus_->dir()) / "work";
        fs::create_directory(work_);
        for (const char* f : {"a.img", "b.img", "c.img"})
            testing::make_sparse_file((work_ / f).string(), 16 << 20);
        ASSERT_TRUE(lost_.attach((work_ / "a.img").string())) << std::strerror(errno);
        deleted_ = std::make_unique<testing::LoopDevice>((work_ / "c.img").string());
        std::ofstream(work_ / "iohealthd.conf")
            << "[daemon]\ndiscover = no\ntick = 200ms\n[libvirt]\nuri =\n"
               "[policy]\nprobe_interval = 200ms\n"
               "[path lost]\ndevice = "
            << lost_.node() << "\n[path deleted]\ndevice = " << deleted_->path() << "\n";
        daemon_ = std::make_unique<testing::Child>(
            std::vector<std::string>{IOHEALTHD, "-c", (work_ / "iohealthd.conf").string(),
                                     "--no-bpf", "--bus-address", bus_->address()},
            std::vector<std::string>{}, -1, log_path());
        auto connection = sdbus::createSessionBusConnectionWithAddress(bus_->address());
        ASSERT_TRUE(testing::wait_for_name(*connection, kBusName)) << log();
    }
    std::string log_path() const { return (work_ / "iohealthd.log").string(); }
    std::string log() const {
        std::ifstream in(log_path());
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }
    json explain(const std::string& path) {
        const auto r = run_status(std::string(IOHEALTHCTL) + " --bus-address " + bus_->address() +
                                  " explain " + path + " --json");
        if (r.status != 0) return json();
        return json::parse(r.out, nullptr, false);
    }
    // The path resolved to its device and sampled twice.
    bool sampling(const std::string& path) {
        const auto end = std::chrono::steady_clock::now() + 10s;
        while (std::chrono::steady_clock::now() < end) {
            const json e = explain(path);
            if (e.is_object() && !e["device"].is_null() && e["window"]["ticks"].get<int>() >= 2)
                return true;
            std::this_thread::sleep_for(100ms);
        }
        return false;
    }
    // The path's reason once it contains `part` (within 10 s), else its last reason.
    std::string reason_with(const std::string& path, const std::string& part) {
        std::string reason;
        const auto end = std::chrono::steady_clock::now() + 10s;
        while (std::chrono::steady_clock::now() < end) {
            const json e = explain(path);
            if (e.is_object()) reason = e.value("reason", "");
            if (contains(reason, part)) break;
            std::this_thread::sleep_for(100ms);
        }
        return reason;
    }

    std::unique_ptr<testing::SystemLikeBus> bus_;
    fs::path work_;
    NumberedLoop lost_;
    std::unique_ptr<testing::LoopDevice> deleted_;
    std::unique_ptr<testing::Child> daemon_;
};

TEST_F(DeviceFateTest, DetachedLoopDeviceIsLostAndItsHeartbeatFailingNotStuck) {
    ASSERT_TRUE(sampling("lost")) << log();
    lost_.detach();
    const std::string lost = reason_with("lost", "heartbeat failing");
    EXPECT_TRUE(contains(
        lost, "device lost: " + lost_.name() + " was detached from " + (work_ / "a.img").string()))
        << lost;
    EXPECT_TRUE(contains(lost, "heartbeat failing")) << lost;
    EXPECT_TRUE(contains(lost, "short read: 0 of 4096 bytes")) << lost;
    EXPECT_FALSE(contains(lost, "heartbeat stuck")) << lost;
    EXPECT_TRUE(contains(log(), "Path 'lost': device lost: " + lost_.name() + " was detached"))
        << log();
    EXPECT_TRUE(contains(log(), "Heartbeat on 'lost' failed in")) << log();

    // Another file at the same loop number: the path now reads other storage.
    ASSERT_TRUE(lost_.attach((work_ / "b.img").string())) << std::strerror(errno);
    const std::string replaced = reason_with("lost", "device replaced");
    EXPECT_TRUE(contains(replaced, "device replaced: " + lost_.name() + " now reads " +
                                       (work_ / "b.img").string() + ", was " +
                                       (work_ / "a.img").string()))
        << replaced;
    EXPECT_TRUE(contains(log(), "Path 'lost': device replaced:")) << log();
}

TEST_F(DeviceFateTest, DeletedBackingFileIsSaid) {
    ASSERT_TRUE(sampling("deleted")) << log();
    fs::remove(work_ / "c.img");
    const std::string reason = reason_with("deleted", "backing file deleted");
    EXPECT_TRUE(contains(reason, "backing file deleted: " + deleted_->name() + " reads " +
                                     (work_ / "c.img").string() + ", which was deleted"))
        << reason;
    EXPECT_TRUE(contains(log(), "Path 'deleted': backing file deleted: ")) << log();
}

// --- libvirt's state and the VM lists' age on the bus and in iohealthctl ---

// iohealthd (no paths) with [libvirt] uri = `uri` on a private bus.
class LibvirtStateTest : public ::testing::Test {
  protected:
    void start(const std::string& uri, const std::string& paths = "") {
        if (geteuid() != 0) GTEST_SKIP() << "needs root: the bus name";
        bus_ = std::make_unique<testing::SystemLikeBus>();
        ASSERT_TRUE(bus_->ok()) << "dbus-daemon did not start";
        work_ = fs::path(bus_->dir()) / "work";
        fs::create_directory(work_);
        std::ofstream(work_ / "iohealthd.conf")
            << "[daemon]\ndiscover = no\ntick = 200ms\n[libvirt]\nuri = " << uri << "\n"
            << paths;
        daemon_ = std::make_unique<testing::Child>(
            std::vector<std::string>{IOHEALTHD, "-c", (work_ / "iohealthd.conf").string(),
                                     "--no-bpf", "--bus-address", bus_->address()},
            std::vector<std::string>{}, -1, log_path());
        auto connection = sdbus::createSessionBusConnectionWithAddress(bus_->address());
        ASSERT_TRUE(testing::wait_for_name(*connection, kBusName)) << log();
    }
    std::string log_path() const { return (work_ / "iohealthd.log").string(); }
    std::string log() const {
        std::ifstream in(log_path());
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }
    // A manager property, as busctl prints it ("s \"connected\"", "t 0").
    std::string property(const std::string& name) {
        return run_status("busctl --address=" + bus_->address() +
                          " get-property org.iohealth.IoHealth1 /org/iohealth/IoHealth1 "
                          "org.iohealth.IoHealth1.Manager " +
                          name)
            .out;
    }
    bool property_becomes(const std::string& name, const std::string& value,
                          std::chrono::milliseconds limit) {
        const auto end = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < end) {
            if (property(name) == value + "\n") return true;
            std::this_thread::sleep_for(100ms);
        }
        return false;
    }

    std::unique_ptr<testing::SystemLikeBus> bus_;
    fs::path work_;
    std::unique_ptr<testing::Child> daemon_;
};

TEST_F(LibvirtStateTest, ConnectedWithTheListsAgeOnTheBus) {
    testing::TempDir node_dir;
    const std::string node = node_dir.path() + "/node.xml";
    std::ofstream(node) << "<node>\n</node>\n";
    testing::make_sparse_file(node_dir.path() + "/disk.img", 16 << 20);
    const testing::LoopDevice disk(node_dir.path() + "/disk.img");
    start("test://" + node, "[path disk]\ndevice = " + disk.path() + "\n");
    ASSERT_TRUE(property_becomes("LibvirtState", "s \"connected\"", 10s)) << log();
    const std::string updated = property("VmsUpdatedUSec");
    ASSERT_TRUE(updated.starts_with("t ")) << updated;
    const auto usec = std::stoull(updated.substr(2));
    const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    EXPECT_GT(usec, std::uint64_t(now) - 120'000'000ull);
    EXPECT_LE(usec, std::uint64_t(now) + 1'000'000ull);

    const std::string ctl = std::string(IOHEALTHCTL) + " --bus-address " + bus_->address();
    const auto show = run_status(ctl + " show disk");
    EXPECT_TRUE(contains(show.out, "libvirt_state: connected\n")) << show.out << show.err;
    EXPECT_TRUE(contains(show.out, "vms_updated_usec: 20")) << show.out;
    const auto explain = run_status(ctl + " explain disk");
    EXPECT_TRUE(contains(explain.out, "(libvirt connected, VM lists as of 20")) << explain.out;
    daemon_.reset();
}

// A libvirtd that accepts and never answers (SIGSTOP): the daemon says so once, shows the
// state on the bus, and keeps serving.
TEST_F(LibvirtStateTest, AHungLibvirtdIsUnreachableAfterTheConnectTimeout) {
    testing::TempDir sock_dir;
    const std::string socket_path = sock_dir.path() + "/silent.sock";
    const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_path.c_str());
    ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(listener, 16), 0);
    start("qemu+unix:///system?socket=" + socket_path);
    EXPECT_EQ(property("LibvirtState"), "s \"unreachable\"\n");
    EXPECT_EQ(property("VmsUpdatedUSec"), "t 0\n");
    const auto end = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < end && !contains(log(), "did not finish within"))
        std::this_thread::sleep_for(200ms);
    EXPECT_TRUE(contains(log(),
                         "did not finish within 10s; no VM list yet, reconnecting (backoff "
                         "up to 30s)"))
        << log();
    const auto r =
        run_status(std::string(IOHEALTHCTL) + " --bus-address " + bus_->address() + " status");
    EXPECT_EQ(r.status, 0) << r.err;
    daemon_.reset();
    ::close(listener);
}

}  // namespace
}  // namespace iohealth
