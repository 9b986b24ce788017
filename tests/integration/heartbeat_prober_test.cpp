// The heartbeat prober and the diskstats source on real loop devices, healthy and with
// faults injected through faultfs.
#include "sources/block/heartbeat_prober.h"

#include <gtest/gtest.h>
#include <sys/sysmacros.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include "harness/faultfs_fixture.h"
#include "integration/direct_io.h"
#include "integration/loop_device.h"
#include "integration/run_command.h"
#include "integration/scoped_mount.h"
#include "integration/temp_dir.h"
#include "sources/block/diskstats_source.h"

namespace iohealth {
namespace {

using namespace std::chrono_literals;
using testing::FaultFsFixture;
using testing::LoopDevice;
using testing::run_quiet;
using testing::TempDir;

#define SKIP_WITHOUT_FAULTFS() \
    if (auto why = FaultFsFixture::unavailable_reason()) GTEST_SKIP() << *why

// Polls `pred` every 10 ms; false after `timeout`.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 5s) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

HeartbeatProber::Options block_probe(const std::string& device) {
    HeartbeatProber::Options o;
    o.kind = HeartbeatProber::Kind::kBlockDevice;
    o.target = device;
    o.interval = 100ms;
    return o;
}

TEST(HeartbeatProberTest, SucceedsPeriodicallyOnAHealthyLoopDevice) {
    SKIP_WITHOUT_FAULTFS();
    TempDir dir;
    testing::make_sparse_file(dir.path() + "/disk.img", 16 << 20);
    LoopDevice loop(dir.path() + "/disk.img");
    SteadyClock clock;
    HeartbeatProber prober(block_probe(loop.path()), clock);
    EXPECT_EQ(prober.snapshot().state, ProbeState::kIdle);
    EXPECT_FALSE(prober.snapshot().last_success);
    prober.start();
    ASSERT_TRUE(eventually([&] { return prober.snapshot().last_success.has_value(); }));
    const auto first = *prober.snapshot().last_success;
    std::this_thread::sleep_for(550ms);
    const auto ev = prober.snapshot();
    ASSERT_TRUE(ev.last_success);
    // 100 ms cadence: several more probes in 550 ms, all fine.
    EXPECT_GE(*ev.last_success - first, 300ms);
    EXPECT_LE(clock.now() - *ev.last_success, 200ms);
    EXPECT_FALSE(ev.last_failed);
    EXPECT_EQ(ev.failures, 0u);
    EXPECT_TRUE(ev.last_error.empty());
    EXPECT_LT(ev.last_latency, 100ms);
    prober.stop();
}

TEST(HeartbeatProberTest, HungProbeStaysPendingAndAgesThenCompletesOnRelease) {
    SKIP_WITHOUT_FAULTFS();
    FaultFsFixture fs;
    SteadyClock clock;
    HeartbeatProber prober(block_probe(fs.device()), clock);
    prober.start();
    ASSERT_TRUE(eventually([&] { return prober.snapshot().last_success.has_value(); }));

    fs.hang();
    ASSERT_TRUE(eventually([&] { return fs.held() >= 1; })) << fs.status();
    const auto hung = prober.snapshot();
    ASSERT_EQ(hung.state, ProbeState::kPending);
    ASSERT_TRUE(hung.pending_since);
    const auto age_before = clock.now() - *hung.pending_since;
    std::this_thread::sleep_for(1500ms);
    const auto later = prober.snapshot();
    EXPECT_EQ(later.state, ProbeState::kPending);
    EXPECT_EQ(later.pending_since, hung.pending_since) << "the stuck probe was re-spawned";
    EXPECT_EQ(later.last_success, hung.last_success);
    const auto age_after = clock.now() - *later.pending_since;
    EXPECT_GE(age_after - age_before, 1400ms);  // the age follows wall time
    EXPECT_EQ(fs.held(), 1u) << "more than one probe outstanding";

    fs.release();
    ASSERT_TRUE(eventually([&] {
        const auto ev = prober.snapshot();
        return ev.last_success && *ev.last_success > *hung.pending_since;
    }));
    const auto done = prober.snapshot();
    EXPECT_FALSE(done.last_failed);
    EXPECT_GE(*done.last_success - *hung.pending_since, 1500ms);
}

TEST(HeartbeatProberTest, ReleasedProbeReportsTheWholeHangAsItsLatency) {
    SKIP_WITHOUT_FAULTFS();
    FaultFsFixture fs;
    SteadyClock clock;
    auto options = block_probe(fs.device());
    options.interval = 3s;  // no newer probe replaces the released one's numbers for a while
    HeartbeatProber prober(options, clock);
    fs.hang();
    prober.start();
    ASSERT_TRUE(fs.wait_held(1));
    std::this_thread::sleep_for(1s);
    fs.release();
    ASSERT_TRUE(eventually([&] { return prober.snapshot().last_success.has_value(); }));
    const auto ev = prober.snapshot();
    EXPECT_EQ(ev.state, ProbeState::kIdle);
    EXPECT_GE(ev.last_latency, 1s);
    EXPECT_LT(ev.last_latency, 3s);
}

TEST(HeartbeatProberTest, EioFailsTheProbeWithItsErrnoText) {
    SKIP_WITHOUT_FAULTFS();
    FaultFsFixture fs;
    SteadyClock clock;
    HeartbeatProber prober(block_probe(fs.device()), clock);
    fs.fail_eio();
    prober.start();
    ASSERT_TRUE(eventually([&] { return prober.snapshot().failures >= 2; }));
    const auto ev = prober.snapshot();
    EXPECT_TRUE(ev.last_failed);
    EXPECT_EQ(ev.last_error, "EIO (Input/output error)");
    EXPECT_FALSE(ev.last_success);
    ASSERT_TRUE(ev.failing_since);

    fs.heal();
    ASSERT_TRUE(eventually([&] { return prober.snapshot().last_success.has_value(); }));
    const auto healed = prober.snapshot();
    EXPECT_EQ(healed.failures, 0u);
    EXPECT_FALSE(healed.last_failed);
    EXPECT_FALSE(healed.failing_since);
    EXPECT_TRUE(healed.last_error.empty());
}

TEST(HeartbeatProberTest, StopDoesNotHangOnAStuckProbe) {
    SKIP_WITHOUT_FAULTFS();
    FaultFsFixture fs;
    {
        SteadyClock clock;  // dies with the prober: the detached thread must not use it
        auto options = block_probe(fs.device());
        options.stop_grace = 100ms;
        HeartbeatProber prober(options, clock);
        fs.hang();
        prober.start();
        ASSERT_TRUE(eventually([&] { return fs.held() >= 1; }));
        const auto start = std::chrono::steady_clock::now();
        prober.stop();
        EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
    }
    // The abandoned probe finishes on its own once the storage answers.
    fs.release();
    EXPECT_TRUE(eventually([&] { return fs.loop().inflight() == 0; }));
}

TEST(HeartbeatProberTest, MissingDeviceFailsWithTheOpenError) {
    SteadyClock clock;
    HeartbeatProber prober(block_probe("/dev/iohealth-no-such-device"), clock);
    prober.start();
    ASSERT_TRUE(eventually([&] { return prober.snapshot().failures >= 1; }));
    EXPECT_EQ(prober.snapshot().last_error, "open: ENOENT (No such file or directory)");
}

HeartbeatProber::Options file_probe(const std::string& dir) {
    HeartbeatProber::Options o;
    o.kind = HeartbeatProber::Kind::kFilesystem;
    o.target = dir;
    o.heartbeat_file = "KVMHA/hb-192.0.2.10";
    o.interval = 100ms;
    return o;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void expect_cloudstack_heartbeat(const std::string& path) {
    const std::string content = read_file(path);
    ASSERT_EQ(content.size(), 11u) << "'" << content << "'";  // "<10 digits>\n"
    EXPECT_EQ(content.back(), '\n');
    const long long written = std::stoll(content);
    EXPECT_LE(std::llabs(written - static_cast<long long>(std::time(nullptr))), 2);
}

TEST(HeartbeatProberTest, WritesACloudStackHeartbeatFileWithODirect) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (mkfs, mount, loop devices)";
    if (!run_quiet({"mkfs.ext4", "-V"})) GTEST_SKIP() << "mkfs.ext4 (e2fsprogs) not installed";
    TempDir dir;
    testing::make_sparse_file(dir.path() + "/fs.img", 32 << 20);
    LoopDevice loop(dir.path() + "/fs.img");
    ASSERT_TRUE(run_quiet({"mkfs.ext4", "-q", "-F", loop.path()})) << "mkfs.ext4 " << loop.path();
    const std::string mnt = dir.path() + "/mnt";
    std::filesystem::create_directory(mnt);
    testing::ScopedMount mounted(loop.path(), mnt, "ext4");
    {
        SteadyClock clock;
        HeartbeatProber prober(file_probe(mnt), clock);
        prober.start();
        EXPECT_TRUE(eventually([&] { return prober.snapshot().last_success.has_value(); }))
            << prober.snapshot().last_error;
        prober.stop();
        EXPECT_TRUE(prober.direct_io()) << "ext4 supports O_DIRECT";
        expect_cloudstack_heartbeat(mnt + "/KVMHA/hb-192.0.2.10");
    }
}

TEST(HeartbeatProberTest, HungFilesystemWriteStaysPendingUntilReleased) {
    SKIP_WITHOUT_FAULTFS();
    if (!run_quiet({"mkfs.ext4", "-V"})) GTEST_SKIP() << "mkfs.ext4 (e2fsprogs) not installed";
    FaultFsFixture fs;
    ASSERT_TRUE(run_quiet({"mkfs.ext4", "-q", "-F", fs.device()}));
    const std::string mnt = fs.mountpoint() + "-ext4";
    std::filesystem::create_directory(mnt);
    testing::ScopedMount mounted(fs.device(), mnt, "ext4");
    // Destroyed before the mount: unmounting ext4 over a hung device would block.
    struct HealFirst {
        FaultFsFixture& fs;
        ~HealFirst() {
            try {
                fs.heal();
            } catch (...) {
            }
        }
    } heal_first{fs};

    SteadyClock clock;
    HeartbeatProber prober(file_probe(mnt), clock);
    prober.start();
    ASSERT_TRUE(eventually([&] { return prober.snapshot().last_success.has_value(); }))
        << prober.snapshot().last_error;
    fs.hang();
    ASSERT_TRUE(eventually(
        [&] { return prober.snapshot().state == ProbeState::kPending && fs.held() >= 1; }));
    const auto hung = prober.snapshot();
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(prober.snapshot().pending_since, hung.pending_since);
    fs.release();
    ASSERT_TRUE(eventually([&] {
        const auto ev = prober.snapshot();
        return ev.last_success && *ev.last_success > *hung.pending_since;
    }));
    prober.stop();
    expect_cloudstack_heartbeat(mnt + "/KVMHA/hb-192.0.2.10");
}

TEST(HeartbeatProberTest, FallsBackToODsyncWhereODirectIsRefused) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (mount ramfs)";
    // ramfs has no direct I/O at all (tmpfs gained it in 6.6).
    TempDir dir;
    testing::ScopedMount mounted("ramfs", dir.path(), "ramfs");
    {
        SteadyClock clock;
        HeartbeatProber prober(file_probe(dir.path()), clock);
        prober.start();
        EXPECT_TRUE(eventually([&] { return prober.snapshot().last_success.has_value(); }))
            << prober.snapshot().last_error;
        prober.stop();
        EXPECT_FALSE(prober.direct_io()) << "ramfs took O_DIRECT: this test proves nothing";
        EXPECT_EQ(prober.snapshot().failures, 0u);
        expect_cloudstack_heartbeat(dir.path() + "/KVMHA/hb-192.0.2.10");
    }
}

TEST(DiskstatsHangTest, InFlightWithZeroCompletionsWhileHung) {
    SKIP_WITHOUT_FAULTFS();
    FaultFsFixture fs;
    DiskstatsSource source;
    const dev_t dev = fs.loop().dev();
    source.set_devices({dev});
    ASSERT_EQ(testing::direct_io(fs.device(), 0, false).bytes, 4096);
    source.collect(TimePoint{});  // baseline

    fs.hang();
    auto reader = std::async(std::launch::async,
                             [&] { return testing::direct_io(fs.device(), 4096, false); });
    ASSERT_TRUE(fs.wait_held(1));
    source.collect(TimePoint{});  // the tick in which the request started
    std::this_thread::sleep_for(1s);
    const auto hung = source.collect(TimePoint{});
    ASSERT_TRUE(hung.contains(dev)) << major(dev) << ":" << minor(dev);
    EXPECT_GT(hung.at(dev).in_flight, 0u);
    EXPECT_EQ(hung.at(dev).completed, 0u);

    fs.release();
    ASSERT_EQ(reader.wait_for(5s), std::future_status::ready);
    const auto after = source.collect(TimePoint{});
    EXPECT_GE(after.at(dev).completed, 1u);
    EXPECT_EQ(after.at(dev).in_flight, 0u);
    // Its one completion took the whole hang: the average lands at >= 1 s.
    EXPECT_GE(after.at(dev).latency.max(), 1s);
}

}  // namespace
}  // namespace iohealth
