// The libvirt source against libvirt's test:/// driver: guests from a node file with disks on
// a real loop device and on a file on a real mount, mapped to monitored paths; lifecycle
// events through the driver (test:///default); reconnecting once the URI works. The test
// driver never raises I/O errors, so that event and the I/O-error pause are fed to the
// source's libvirt callbacks directly, with a domain of the driver.
#include "sources/libvirt/libvirt_source.h"

#include <libvirt/libvirt.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "integration/libvirt_test_node.h"
#include "integration/loop_device.h"
#include "integration/scoped_mount.h"
#include "integration/temp_dir.h"
#include "sources/libvirt/libvirt_path_vms.h"
#include "unit/log_capture.h"

namespace iohealth {
namespace {

using testing::LoopDevice;
using testing::TempDir;
using testing::TestDomain;

#define SKIP_WITHOUT_LOOP()                                                  \
    if (::geteuid() != 0 || ::access("/dev/loop-control", R_OK | W_OK) != 0) \
    GTEST_SKIP() << "needs root and loop devices"

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = 5000ms) {
    for (auto end = std::chrono::steady_clock::now() + limit;
         std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(20ms))
        if (done()) return true;
    return done();
}

const Vm* find_vm(const VmSnapshot& s, const std::string& name) {
    for (const Vm& vm : s.vms)
        if (vm.name == name) return &vm;
    return nullptr;
}

std::vector<std::string> names(const std::vector<VmOnPath>& vms) {
    std::vector<std::string> out;
    for (const auto& v : vms) out.push_back(v.name);
    return out;
}

PathConfig path(std::string name, PathKind kind, std::string target) {
    PathConfig p;
    p.name = std::move(name);
    p.kind = kind;
    p.target = std::move(target);
    return p;
}

// A loop device and a tmpfs mount (no block device behind it, like an NFS pool), with guests
// on each, on both, and one shut off.
class LibvirtNodeTest : public ::testing::Test {
  protected:
    void SetUp() override {
        SKIP_WITHOUT_LOOP();
        testing::make_sparse_file(dir_.path() + "/disk.img", 16 << 20);
        loop_ = std::make_unique<LoopDevice>(dir_.path() + "/disk.img");
        pool_ = dir_.path() + "/pool";
        std::filesystem::create_directory(pool_);
        mount_ = std::make_unique<testing::ScopedMount>("tmpfs", pool_, "tmpfs", "size=1m");
        image_ = pool_ + "/vol-file.qcow2";
        device_.target = loop_->path();
        pool_path_.target = pool_;
        uri_ = testing::write_test_node(
            dir_.path() + "/node.xml",
            {{"vm-block",
              "11111111-0000-4000-8000-000000000001",
              {{"block", loop_->path(), "vda"}}},
             {"vm-file", "11111111-0000-4000-8000-000000000002", {{"file", image_, "vda"}}},
             {"vm-both",
              "11111111-0000-4000-8000-000000000003",
              {{"block", loop_->path(), "vda"}, {"file", pool_ + "/vol-both.qcow2", "vdb"}}},
             {"vm-off",
              "11111111-0000-4000-8000-000000000004",
              {{"block", loop_->path(), "vda"}},
              5}});
        LibvirtSource::Options o;
        o.uri = uri_;
        source_ = std::make_unique<LibvirtSource>(o, clock_);
        source_->start();
        ASSERT_TRUE(eventually([&] { return source_->snapshot().connected; }))
            << source_->snapshot().error;
    }

    std::map<std::string, PathVms> collect() {
        return tracker_.collect(
            source_->snapshot(),
            {{&device_, loop_->dev()}, {&pool_path_, std::nullopt}, {&other_, makedev(8, 240)}});
    }

    SteadyClock clock_;
    TempDir dir_;
    std::unique_ptr<LoopDevice> loop_;
    std::string pool_, image_, uri_;
    std::unique_ptr<testing::ScopedMount> mount_;
    std::unique_ptr<LibvirtSource> source_;
    PathConfig device_ = path("disk", PathKind::kDevice, "");
    PathConfig pool_path_ = path("pool", PathKind::kMount, "");
    PathConfig other_ = path("other", PathKind::kDevice, "/dev/sdp");
    PathVmTracker tracker_;
};

TEST_F(LibvirtNodeTest, RunningGuestsAndTheirDisksAreLocated) {
    const VmSnapshot s = source_->snapshot();
    EXPECT_EQ(s.uri, uri_);
    ASSERT_EQ(s.vms.size(), 3u) << "vm-off is shut off and not listed";
    EXPECT_EQ(s.vms[0].name, "vm-block");  // sorted by name
    EXPECT_EQ(s.vms[1].name, "vm-both");
    EXPECT_EQ(s.vms[2].name, "vm-file");
    EXPECT_TRUE(s.as_of.has_value());

    const Vm* block = find_vm(s, "vm-block");
    ASSERT_EQ(block->disks.size(), 1u);
    EXPECT_EQ(block->disks[0].target, "vda");
    EXPECT_EQ(block->disks[0].images.at(0).dev, loop_->dev());
    EXPECT_EQ(vm_state_text(block->state, block->reason), "running");

    const Vm* file = find_vm(s, "vm-file");
    const DiskLocation& image = file->disks.at(0).images.at(0);
    EXPECT_EQ(image.path, image_);
    EXPECT_EQ(image.mount_point, pool_);
    ASSERT_TRUE(image.dev.has_value());
    EXPECT_EQ(major(*image.dev), 0u) << "tmpfs has an anonymous device";
}

TEST_F(LibvirtNodeTest, EachPathListsTheGuestsWithADiskOnIt) {
    auto out = collect();
    EXPECT_EQ(names(out["disk"].vms), (std::vector<std::string>{"vm-block", "vm-both"}));
    EXPECT_EQ(names(out["pool"].vms), (std::vector<std::string>{"vm-both", "vm-file"}));
    EXPECT_TRUE(out["other"].vms.empty());
    EXPECT_EQ(out["disk"].vms[0].state, "running");
}

TEST_F(LibvirtNodeTest, IoErrorEventAndIoErrorPauseBecomeEvidenceOnThePathOfTheDisk) {
    // A second connection to the same node file: its own driver instance, the same guests
    // (fixed uuids), as the event callbacks would receive them.
    virConnectPtr conn = virConnectOpen(uri_.c_str());
    ASSERT_NE(conn, nullptr);
    virDomainPtr dom = virDomainLookupByName(conn, "vm-file");
    ASSERT_NE(dom, nullptr);
    void* opaque = source_.get();

    LibvirtSource::on_io_error(conn, dom, image_.c_str(), "virtio-disk0",
                               VIR_DOMAIN_EVENT_IO_ERROR_PAUSE, "eio", opaque);
    LibvirtSource::on_io_error(conn, dom, image_.c_str(), "virtio-disk0",
                               VIR_DOMAIN_EVENT_IO_ERROR_PAUSE, "eio", opaque);
    LibvirtSource::on_lifecycle(conn, dom, VIR_DOMAIN_EVENT_SUSPENDED,
                                VIR_DOMAIN_EVENT_SUSPENDED_IOERROR, opaque);
    // An image the snapshot does not know (hot-plugged a moment ago) is placed on its mount.
    const std::string hotplugged = pool_ + "/hotplugged.raw";
    LibvirtSource::on_io_error(conn, dom, hotplugged.c_str(), "virtio-disk9",
                               VIR_DOMAIN_EVENT_IO_ERROR_REPORT, "enospc", opaque);
    virDomainFree(dom);
    virConnectClose(conn);

    const VmSnapshot s = source_->snapshot();
    ASSERT_EQ(s.io_errors.size(), 3u);
    EXPECT_EQ(s.io_errors[0].vm, "vm-file");
    EXPECT_EQ(s.io_errors[0].disk, "vda");
    EXPECT_EQ(s.io_errors[0].reason, "eio");
    EXPECT_EQ(s.io_errors[2].disk, "virtio-disk9");
    EXPECT_EQ(s.io_errors[2].where.at(0).mount_point, pool_);
    EXPECT_EQ(vm_state_text(find_vm(s, "vm-file")->state, find_vm(s, "vm-file")->reason),
              "paused (I/O error)");

    auto out = collect();
    EXPECT_EQ(out["pool"].io_errors, 3u);
    EXPECT_EQ(out["pool"].last_io_error, "vm-file virtio-disk9: enospc");
    EXPECT_EQ(out["pool"].paused_on_io_error, std::vector<std::string>{"vm-file"});
    EXPECT_EQ(out["disk"].io_errors, 0u);
    EXPECT_TRUE(out["disk"].paused_on_io_error.empty());

    StorageFacts facts;
    add_vm_facts(out["pool"], facts);
    EXPECT_EQ(describe_vm_facts(facts),
              "3 VM I/O errors (latest vm-file virtio-disk9: enospc); paused on I/O error: "
              "vm-file");
    EXPECT_EQ(collect()["pool"].io_errors, 0u) << "each event counts in one tick only";
}

// test:///default is one driver instance per process: a domain the test starts, pauses and
// destroys on its own connection reaches the source as lifecycle events.
TEST(LibvirtSourceTest, FollowsGuestsThroughLifecycleEvents) {
    TempDir dir;
    SteadyClock clock;
    LibvirtSource::Options o;
    o.uri = "test:///default";
    LibvirtSource source(o, clock);
    source.start();
    ASSERT_TRUE(eventually([&] { return source.snapshot().connected; })) << source.snapshot().error;

    virConnectPtr conn = virConnectOpen("test:///default");
    ASSERT_NE(conn, nullptr);
    const std::string image = dir.path() + "/live.img";
    const std::string xml = testing::test_domain_xml(
        {"vm-live", "22222222-0000-4000-8000-000000000001", {{"file", image, "vda"}}});
    virDomainPtr dom = virDomainCreateXML(conn, xml.c_str(), 0);
    ASSERT_NE(dom, nullptr);

    EXPECT_TRUE(eventually([&] { return find_vm(source.snapshot(), "vm-live") != nullptr; }));
    const auto s = source.snapshot();
    if (const Vm* vm = find_vm(s, "vm-live")) {
        EXPECT_EQ(vm->disks.at(0).images.at(0).path, image);
        EXPECT_FALSE(vm->disks.at(0).images.at(0).mount_point.empty());
    }

    ASSERT_EQ(virDomainSuspend(dom), 0);
    EXPECT_TRUE(eventually([&] {
        const auto now = source.snapshot();
        const Vm* vm = find_vm(now, "vm-live");
        return vm && vm_state_text(vm->state, vm->reason) == "paused (user)";
    }));

    ASSERT_EQ(virDomainDestroy(dom), 0);
    EXPECT_TRUE(eventually([&] { return find_vm(source.snapshot(), "vm-live") == nullptr; }));
    virDomainFree(dom);
    virConnectClose(conn);
}

TEST(LibvirtSourceTest, RetriesUntilTheConnectionWorks) {
    TempDir dir;
    SteadyClock clock;
    LibvirtSource::Options o;
    const std::string node = dir.path() + "/late.xml";
    o.uri = "test://" + node;
    o.retry_min = 50ms;
    o.retry_max = 200ms;
    LibvirtSource source(o, clock);
    source.start();
    ASSERT_TRUE(eventually([&] {
        return source.snapshot().error.find(o.uri) != std::string::npos;
    })) << source.snapshot().error;
    EXPECT_FALSE(source.snapshot().connected);

    testing::write_test_node(node, {{"vm-late", "33333333-0000-4000-8000-000000000001", {}}});
    EXPECT_TRUE(eventually([&] { return source.snapshot().connected; })) << source.snapshot().error;
    EXPECT_NE(find_vm(source.snapshot(), "vm-late"), nullptr);
    EXPECT_TRUE(source.snapshot().error.empty());
}

// Issue 15: a libvirtd that accepts and never answers (SIGSTOP) held the source in
// virConnectOpen, silently, for as long as it hung. Now the attempt is given up after
// connect_timeout, said once, and retried after the backoff; stop() does not wait for it.
TEST(LibvirtSourceTest, AConnectThatNeverAnswersTimesOutAndBacksOff) {
    TempDir dir;
    const std::string socket_path = dir.path() + "/silent.sock";
    const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_path.c_str());
    ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(listener, 16), 0);  // connections wait in the backlog, unanswered

    LogCapture log;
    SteadyClock clock;
    LibvirtSource::Options o;
    o.uri = "qemu+unix:///system?socket=" + socket_path;
    o.connect_timeout = 300ms;
    o.retry_min = 100ms;
    o.retry_max = 200ms;
    auto source = std::make_unique<LibvirtSource>(o, clock);
    const auto start = std::chrono::steady_clock::now();
    source->start();
    ASSERT_TRUE(eventually([&] {
        return source->snapshot().error.find("did not finish within 300ms") != std::string::npos;
    })) << source->snapshot().error;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
    EXPECT_FALSE(source->snapshot().connected);
    std::this_thread::sleep_for(1s);  // further attempts time out the same way: said once
    int said = 0;
    for (const auto& line : log.lines())
        if (line.find("did not finish within 300ms; no VM list yet, reconnecting") !=
            std::string::npos)
            ++said;
    EXPECT_EQ(said, 1);
    const auto stopping = std::chrono::steady_clock::now();
    source.reset();
    EXPECT_LT(std::chrono::steady_clock::now() - stopping, 1s);
    ::close(listener);  // the attempts left behind fail now and end
}

}  // namespace
}  // namespace iohealth
