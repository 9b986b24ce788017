// The eBPF block probes on this kernel, with real I/O: loop devices (request-based), zram
// (bio-based), a frozen ext4 below a loop device (a request that does not complete) and a full
// tmpfs below a loop device (requests that fail).
#include <fcntl.h>
#include <linux/fs.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include <bpf/bpf.h>
#include <linux/types.h>
// clang-format off: the shared BPF header needs the __u* types first.
#include "iohealth.h"
// clang-format on

#include "core/time.h"
#include "integration/bpf_zram_device.h"
#include "integration/loop_device.h"
#include "sources/bpf/bpf_block_source.h"

namespace iohealth {
namespace {

using namespace std::chrono_literals;
using testing::LoopDevice;
using testing::ZramDevice;

constexpr std::size_t kBlock = 4096;

struct TempDir {
    TempDir() {
        std::string pattern = "/tmp/iohealth-bpf-XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path = pattern;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string path;
};

// O_DIRECT 4 KiB I/Os at distinct offsets. Returns the errno of each failed one.
std::vector<int> direct_io(const std::string& device, int n, bool write) {
    const int fd = ::open(device.c_str(), (write ? O_WRONLY : O_RDONLY) | O_DIRECT | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("open " + device + ": " + std::strerror(errno));
    std::unique_ptr<void, decltype(&std::free)> buf(std::aligned_alloc(kBlock, kBlock), &std::free);
    std::memset(buf.get(), 0x5a, kBlock);
    std::vector<int> failures;
    for (int i = 0; i < n; ++i) {
        const off_t off = static_cast<off_t>(i) * kBlock;
        const ssize_t r =
            write ? ::pwrite(fd, buf.get(), kBlock, off) : ::pread(fd, buf.get(), kBlock, off);
        if (r != static_cast<ssize_t>(kBlock)) failures.push_back(r < 0 ? errno : EIO);
    }
    ::close(fd);
    return failures;
}

// Completed requests of a disk in /proc/diskstats: reads + writes + discards + flushes.
std::uint64_t diskstats_completed(const std::string& name) {
    std::ifstream in("/proc/diskstats");
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        unsigned ma = 0, mi = 0;
        std::string dev;
        fields >> ma >> mi >> dev;
        if (dev != name) continue;
        std::vector<std::uint64_t> v;
        std::uint64_t x = 0;
        while (fields >> x) v.push_back(x);
        std::uint64_t total = v.at(0) + v.at(4);
        if (v.size() > 11) total += v[11];
        if (v.size() > 15) total += v[15];
        return total;
    }
    throw std::runtime_error(name + " not in /proc/diskstats");
}

// Waits until nothing else (udev's blkid probe of a new device) does I/O on it.
void settle(const std::string& name) {
    auto last = diskstats_completed(name);
    for (int i = 0; i < 50; ++i) {
        std::this_thread::sleep_for(100ms);
        const auto now = diskstats_completed(name);
        if (now == last && i >= 2) return;
        last = now;
    }
}

int run(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    if (posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) return -1;
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct Mount {
    Mount(const std::string& source, const std::string& target, const char* type, const char* data)
        : target(target) {
        std::filesystem::create_directories(target);
        if (::mount(source.c_str(), target.c_str(), type, 0, data) != 0)
            throw std::runtime_error("mount " + target + ": " + std::strerror(errno));
    }
    ~Mount() { ::umount2(target.c_str(), MNT_DETACH); }
    std::string target;
};

// FIFREEZE a mounted filesystem; thawed again on destruction.
struct Freeze {
    explicit Freeze(const std::string& mountpoint) {
        fd = ::open(mountpoint.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || ::ioctl(fd, FIFREEZE, 0) != 0)
            throw std::runtime_error("freeze " + mountpoint + ": " + std::strerror(errno));
    }
    void thaw() {
        if (fd < 0) return;
        ::ioctl(fd, FITHAW, 0);
        ::close(fd);
        fd = -1;
    }
    ~Freeze() { thaw(); }
    int fd = -1;
};

// The newest BPF map with this name: the one the source under test just created.
int newest_map_fd(const std::string& name) {
    __u32 id = 0, newest = 0;
    while (bpf_map_get_next_id(id, &id) == 0) {
        const int fd = bpf_map_get_fd_by_id(id);
        if (fd < 0) continue;
        bpf_map_info info{};
        __u32 len = sizeof(info);
        if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && name == info.name) newest = id;
        ::close(fd);
    }
    return newest != 0 ? bpf_map_get_fd_by_id(newest) : -1;
}

class BpfBlockSourceTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root (CAP_BPF, CAP_PERFMON, loop devices)";
        if (::access("/sys/kernel/btf/vmlinux", R_OK) != 0)
            GTEST_SKIP() << "no kernel BTF at /sys/kernel/btf/vmlinux (CONFIG_DEBUG_INFO_BTF)";
    }

    static std::unique_ptr<BpfBlockSource> make(BpfOptions options = {}) {
        auto result = BpfBlockSource::make(options);
        EXPECT_TRUE(result) << result.error();
        return result ? std::move(*result) : nullptr;
    }

    TempDir tmp_;
};

TEST_F(BpfBlockSourceTest, ProbesLoadAndAttachOnThisKernel) {
    auto source = make(BpfOptions{.per_request = true});
    ASSERT_TRUE(source);
    EXPECT_TRUE(source->notes().empty()) << source->notes().front();
    ASSERT_TRUE(source->tracks_bio_devices());
    const auto rq_only = source->program_fds();
    EXPECT_EQ(rq_only.count("handle_rq_issue"), 1u);
    EXPECT_EQ(rq_only.count("handle_rq_complete"), 1u);
    // block_bio_queue costs every bio on the host: not attached while no bio-based device is
    // tracked.
    EXPECT_EQ(rq_only.count("handle_bio_queue"), 0u);

    if (!ZramDevice::available()) GTEST_SKIP() << "no zram-control: no bio-based device to track";
    ZramDevice zram;
    source->set_devices({zram.dev()});
    const auto all = source->program_fds();
    for (const char* prog :
         {"handle_rq_issue", "handle_rq_complete", "handle_bio_queue", "handle_bio_complete"})
        EXPECT_EQ(all.count(prog), 1u) << prog << " is not attached";
    source->set_devices({});
    EXPECT_EQ(source->program_fds().count("handle_bio_queue"), 0u);
}

TEST_F(BpfBlockSourceTest, ForcedDegradedRefusesWithReason) {
    const auto result = BpfBlockSource::make(BpfOptions{.disabled = true});
    EXPECT_FALSE(result);
    EXPECT_NE(result.error().find("--no-bpf"), std::string::npos) << result.error();
}

TEST_F(BpfBlockSourceTest, DirectReadsOnLoopDeviceCountExactly) {
    constexpr int kReads = 300;
    testing::make_sparse_file(tmp_.path + "/disk.img", 16 << 20);
    LoopDevice loop(tmp_.path + "/disk.img");
    auto source = make();
    ASSERT_TRUE(source);
    source->set_devices({loop.dev()});
    settle(loop.name());

    SteadyClock clock;
    source->collect(clock.now());
    const auto disk_before = diskstats_completed(loop.name());
    const auto start = clock.now();
    ASSERT_TRUE(direct_io(loop.path(), kReads, /*write=*/false).empty());
    const auto end = clock.now();
    const auto out = source->collect(end);
    const auto disk_delta = diskstats_completed(loop.name()) - disk_before;

    ASSERT_EQ(out.count(loop.dev()), 1u);
    const auto& ev = out.at(loop.dev());
    EXPECT_TRUE(ev.available);
    // The kernel's own count first: if anything else touched the device, say so.
    EXPECT_EQ(disk_delta, static_cast<std::uint64_t>(kReads)) << "other I/O hit " << loop.name();
    EXPECT_EQ(ev.completed, disk_delta);
    EXPECT_EQ(ev.issued, disk_delta);
    EXPECT_EQ(ev.latency.count(), ev.completed);
    EXPECT_EQ(ev.bytes, ev.completed * kBlock);
    EXPECT_EQ(ev.errors.total(), 0u);
    EXPECT_EQ(ev.in_flight, 0u);
    ASSERT_TRUE(ev.last_completion);
    EXPECT_GE(*ev.last_completion, start);
    EXPECT_LE(*ev.last_completion, end);
    // Default mode keeps no per-request table; the age ring may report an age, and with every
    // read done it is zero.
    EXPECT_EQ(ev.oldest_in_flight_age.value_or(Duration{0}), Duration{0});

    const auto per_op = source->per_op_latency(loop.dev());
    ASSERT_TRUE(per_op);
    EXPECT_EQ((*per_op)[static_cast<int>(BlockOp::kRead)].count(), ev.completed);
    EXPECT_EQ((*per_op)[static_cast<int>(BlockOp::kWrite)].count(), 0u);
    EXPECT_EQ(source->diagnostics().no_start_time, 0u);

    // Deltas: a second tick without I/O reports nothing new, but keeps the last completion.
    const auto idle = source->collect(clock.now());
    EXPECT_EQ(idle.at(loop.dev()).completed, 0u);
    EXPECT_EQ(idle.at(loop.dev()).last_completion, ev.last_completion);
}

// A detached loop device keeps its /dev node; a hot-removed zram device is really gone.
TEST_F(BpfBlockSourceTest, VanishedDeviceIsAbsentFromTheResult) {
    if (!ZramDevice::available()) GTEST_SKIP() << "no zram-control (modprobe zram)";
    auto source = make();
    ASSERT_TRUE(source);
    SteadyClock clock;
    dev_t gone = 0;
    {
        ZramDevice zram;
        gone = zram.dev();
        source->set_devices({gone});
        EXPECT_EQ(source->collect(clock.now()).count(gone), 1u);
    }
    EXPECT_EQ(source->collect(clock.now()).count(gone), 0u);
}

TEST_F(BpfBlockSourceTest, BioBasedZramCountsExactlyWithoutPhantoms) {
    if (!ZramDevice::available()) GTEST_SKIP() << "no zram-control (modprobe zram)";
    constexpr int kWrites = 200, kReads = 150;
    ZramDevice zram;
    auto source = make();
    ASSERT_TRUE(source);
    ASSERT_TRUE(source->tracks_bio_devices());
    source->set_devices({zram.dev()});
    SteadyClock clock;
    source->collect(clock.now());

    ASSERT_TRUE(direct_io(zram.path(), kWrites, /*write=*/true).empty());
    ASSERT_TRUE(direct_io(zram.path(), kReads, /*write=*/false).empty());
    const auto out = source->collect(clock.now());

    ASSERT_EQ(out.count(zram.dev()), 1u);
    const auto& ev = out.at(zram.dev());
    EXPECT_EQ(ev.completed, static_cast<std::uint64_t>(kWrites + kReads));
    EXPECT_EQ(ev.issued, ev.completed);
    EXPECT_EQ(ev.latency.count(), ev.completed);
    EXPECT_EQ(ev.bytes, ev.completed * kBlock);
    const auto per_op = source->per_op_latency(zram.dev());
    ASSERT_TRUE(per_op);
    EXPECT_EQ((*per_op)[static_cast<int>(BlockOp::kWrite)].count(),
              static_cast<std::uint64_t>(kWrites));
    EXPECT_EQ((*per_op)[static_cast<int>(BlockOp::kRead)].count(),
              static_cast<std::uint64_t>(kReads));
    // Every queued bio completed: nothing is left in the in-flight table.
    EXPECT_EQ(ev.in_flight, 0u);
    ASSERT_TRUE(ev.oldest_in_flight_age);
    EXPECT_EQ(*ev.oldest_in_flight_age, Duration{0});
    EXPECT_EQ(source->diagnostics().stale_purged, 0u);
}

// block_bio_queue fires for blk-mq bios too, and those never reach block_bio_complete: an
// unfiltered bio probe would leave phantom in-flight entries on loop devices.
TEST_F(BpfBlockSourceTest, UnfilteredModeLeavesNoPhantomBiosOnRequestBasedDisks) {
    testing::make_sparse_file(tmp_.path + "/disk.img", 16 << 20);
    LoopDevice loop(tmp_.path + "/disk.img");
    auto source = make(BpfOptions{.filter_devices = false});
    ASSERT_TRUE(source);
    SteadyClock clock;
    source->collect(clock.now());
    ASSERT_TRUE(direct_io(loop.path(), 100, /*write=*/true).empty());
    const auto out = source->collect(clock.now());

    ASSERT_EQ(out.count(loop.dev()), 1u) << "unfiltered mode tracks every disk";
    const auto& ev = out.at(loop.dev());
    EXPECT_GE(ev.completed, 100u);
    // Every write is done: an age here means a loop bio was recorded by block_bio_queue and
    // never completed (the age ring of the rq family reports zero).
    EXPECT_EQ(ev.oldest_in_flight_age.value_or(Duration{0}), Duration{0});
    EXPECT_EQ(source->diagnostics().stale_purged, 0u);
}

// A request held below the loop device (its backing ext4 is frozen) stays in flight: the
// per-request table reports its age growing with no completion, and when the filesystem is
// thawed the request completes with the whole wait as its latency.
TEST_F(BpfBlockSourceTest, PerRequestModeAgesAStuckRequest) {
    testing::make_sparse_file(tmp_.path + "/lower.img", 64 << 20);
    LoopDevice lower(tmp_.path + "/lower.img");
    ASSERT_EQ(run({"mkfs.ext4", "-q", "-F", lower.path()}), 0) << "mkfs.ext4 failed";
    Mount fs(lower.path(), tmp_.path + "/mnt", "ext4", nullptr);
    testing::make_sparse_file(fs.target + "/upper.img", 16 << 20);
    LoopDevice upper(fs.target + "/upper.img");

    auto source = make(BpfOptions{.per_request = true});
    ASSERT_TRUE(source);
    source->set_devices({upper.dev()});
    settle(upper.name());
    SteadyClock clock;
    source->collect(clock.now());

    Freeze freeze(fs.target);
    const auto frozen_at = clock.now();
    std::thread writer([&] { direct_io(upper.path(), 1, /*write=*/true); });
    std::this_thread::sleep_for(1500ms);
    const auto t1 = source->collect(clock.now());
    std::this_thread::sleep_for(1000ms);
    const auto t2 = source->collect(clock.now());
    freeze.thaw();
    const auto thawed_at = clock.now();
    writer.join();
    const auto t3 = source->collect(clock.now());

    const auto& stuck1 = t1.at(upper.dev());
    const auto& stuck2 = t2.at(upper.dev());
    EXPECT_EQ(stuck1.completed, 0u);
    EXPECT_EQ(stuck2.completed, 0u);
    EXPECT_EQ(stuck1.in_flight, 1u);
    EXPECT_EQ(stuck1.issued, 1u);
    ASSERT_TRUE(stuck1.oldest_in_flight_age && stuck2.oldest_in_flight_age);
    EXPECT_GE(*stuck1.oldest_in_flight_age, 1400ms);
    EXPECT_GE(*stuck2.oldest_in_flight_age - *stuck1.oldest_in_flight_age, 900ms);

    const auto& done = t3.at(upper.dev());
    EXPECT_EQ(done.completed, 1u);
    EXPECT_EQ(done.in_flight, 0u);
    EXPECT_EQ(*done.oldest_in_flight_age, Duration{0});
    ASSERT_EQ(done.latency.count(), 1u);
    // The request waited at least from the freeze to (almost) the thaw.
    EXPECT_GE(done.latency.max(), thawed_at - frozen_at - 100ms);
    EXPECT_EQ(source->diagnostics().stale_purged, 0u);
}

// A missed completion leaves an entry that would look like a hang forever: once the kernel
// says nothing is in flight on that device, the entry is purged and counted.
TEST_F(BpfBlockSourceTest, LeakedInFlightEntryIsPurgedWhenTheKernelSaysIdle) {
    testing::make_sparse_file(tmp_.path + "/disk.img", 16 << 20);
    LoopDevice loop(tmp_.path + "/disk.img");
    auto source = make(BpfOptions{.per_request = true});
    ASSERT_TRUE(source);
    source->set_devices({loop.dev()});
    settle(loop.name());
    const int inflight = newest_map_fd("rq_inflight");
    ASSERT_GE(inflight, 0) << "rq_inflight map not found";
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    const __u64 leaked_key = 0xdead0000;  // no request lives at this address
    ioh_inflight leaked{};
    leaked.start_ns = static_cast<__u64>(ts.tv_sec - 5) * 1'000'000'000ULL;
    leaked.dev = IOH_MKDEV(major(loop.dev()), minor(loop.dev()));
    ASSERT_EQ(bpf_map_update_elem(inflight, &leaked_key, &leaked, BPF_ANY), 0);

    SteadyClock clock;
    const auto ev = source->collect(clock.now()).at(loop.dev());
    EXPECT_EQ(loop.inflight(), 0u);
    EXPECT_EQ(ev.in_flight, 0u);
    EXPECT_EQ(ev.oldest_in_flight_age, Duration{0});
    EXPECT_EQ(source->diagnostics().stale_purged, 1u);
    ioh_inflight gone{};
    EXPECT_NE(bpf_map_lookup_elem(inflight, &leaked_key, &gone), 0);
    ::close(inflight);
}

// Requests that fail below the loop device: its backing file sits on a 1 MiB tmpfs, so
// writes past the first MiB get ENOSPC from the filesystem and the request fails. (EIO from a
// dying disk needs the FUSE fault harness in tests/harness.)
TEST_F(BpfBlockSourceTest, FailedRequestsAreCountedAsErrors) {
    constexpr int kWrites = 512;  // 2 MiB
    Mount small("tmpfs", tmp_.path + "/small", "tmpfs", "size=1m");
    testing::make_sparse_file(small.target + "/disk.img", 8 << 20);
    LoopDevice loop(small.target + "/disk.img");
    auto source = make();
    ASSERT_TRUE(source);
    source->set_devices({loop.dev()});
    settle(loop.name());
    SteadyClock clock;
    source->collect(clock.now());

    const auto failures = direct_io(loop.path(), kWrites, /*write=*/true);
    const auto ev = source->collect(clock.now()).at(loop.dev());

    ASSERT_FALSE(failures.empty()) << "tmpfs did not fill up";
    EXPECT_EQ(ev.completed, static_cast<std::uint64_t>(kWrites));
    EXPECT_EQ(failures.front(), ENOSPC);
    // loop turns the backing file's -ENOSPC into BLK_STS_NOSPC: neither EIO nor a timeout.
    EXPECT_EQ(ev.errors.other, failures.size());
    EXPECT_EQ(ev.errors.total(), failures.size());
    EXPECT_EQ(ev.bytes, (kWrites - failures.size()) * kBlock);
    EXPECT_EQ(ev.succeeded(), kWrites - failures.size());
}

}  // namespace
}  // namespace iohealth
