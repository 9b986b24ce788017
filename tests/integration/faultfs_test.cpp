// The fault-injection harness itself: a loop device over faultfs is a real block device whose
// requests are delayed, held in flight or failed on command, and teardown always cleans up.
#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <sstream>

#include "harness/faultfs_fixture.h"
#include "integration/direct_io.h"

namespace iohealth::testing {
namespace {

using namespace std::chrono_literals;

#define SKIP_WITHOUT_FAULTFS() \
    if (auto why = FaultFsFixture::unavailable_reason()) GTEST_SKIP() << *why

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST(FaultFsTest, HealthyReadsAndWritesReachTheBackingFile) {
    SKIP_WITHOUT_FAULTFS();
    FaultFsFixture fs;
    const auto w = direct_io(fs.device(), 8192, /*write=*/true, 'x');
    ASSERT_EQ(w.bytes, 4096) << std::strerror(w.error);
    const auto r = direct_io(fs.device(), 8192, /*write=*/false);
    ASSERT_EQ(r.bytes, 4096) << std::strerror(r.error);
    EXPECT_GE(fs.served(), 2u);
    // Written through loop -> FUSE -> faultfs -> the backing file.
    ASSERT_EQ(::access(fs.backing_file().c_str(), R_OK), 0);
    const std::string backing = read_file(fs.backing_file());
    EXPECT_EQ(backing.substr(8192, 4096), std::string(4096, 'x'));
    EXPECT_EQ(fs.status().find("mode=normal"), 0u) << fs.status();
}

TEST(FaultFsTest, HungReadStaysInFlightUntilReleased) {
    SKIP_WITHOUT_FAULTFS();
    FaultFsFixture fs;
    fs.hang();
    auto reader = std::async(std::launch::async, [&] { return direct_io(fs.device(), 0, false); });
    ASSERT_TRUE(fs.wait_held(1)) << fs.status();
    EXPECT_EQ(reader.wait_for(1s), std::future_status::timeout) << "a hung read returned";
    EXPECT_GT(fs.loop().inflight(), 0u) << "the loop request is not in flight";
    EXPECT_NE(fs.status().find("mode=hang"), std::string::npos);  // ctl answers while hung

    fs.release();
    ASSERT_EQ(reader.wait_for(5s), std::future_status::ready);
    const auto r = reader.get();
    EXPECT_EQ(r.bytes, 4096) << std::strerror(r.error);
    EXPECT_GE(r.took, 1s);
    EXPECT_EQ(fs.loop().inflight(), 0u);
    EXPECT_EQ(fs.held(), 0u);
}

TEST(FaultFsTest, ControlAnswersWithManyRequestsHung) {
    SKIP_WITHOUT_FAULTFS();
    FaultFsFixture fs;
    fs.hang();
    std::vector<std::future<DirectIoResult>> readers;
    for (int i = 0; i < 16; ++i)
        readers.push_back(std::async(std::launch::async,
                                     [&, i] { return direct_io(fs.device(), i * 65536, false); }));
    ASSERT_TRUE(fs.wait_held(1));
    std::this_thread::sleep_for(200ms);
    // Every ctl round trip still completes: hung requests are parked, not holding workers.
    for (int i = 0; i < 20; ++i) EXPECT_GE(fs.held(), 1u);
    fs.heal();
    for (auto& r : readers) {
        ASSERT_EQ(r.wait_for(10s), std::future_status::ready);
        EXPECT_EQ(r.get().bytes, 4096);
    }
}

TEST(FaultFsTest, DelayIsAppliedPerRequest) {
    SKIP_WITHOUT_FAULTFS();
    FaultFsFixture fs;
    fs.delay(300ms);
    const auto r = direct_io(fs.device(), 4096, false);
    EXPECT_EQ(r.bytes, 4096);
    EXPECT_GE(r.took, 300ms);
    EXPECT_LT(r.took, 3s);
    EXPECT_NE(fs.status().find("delay_ms=300-300"), std::string::npos) << fs.status();

    fs.delay(100ms, 400ms);
    const auto ranged = direct_io(fs.device(), 12288, false);
    EXPECT_GE(ranged.took, 100ms);
    fs.heal();
    EXPECT_LT(direct_io(fs.device(), 4096, false).took, 100ms);
}

TEST(FaultFsTest, EioFailsTheBlockRequestAndHealRecovers) {
    SKIP_WITHOUT_FAULTFS();
    FaultFsFixture fs;
    fs.fail_eio();
    const auto r = direct_io(fs.device(), 0, false);
    EXPECT_EQ(r.bytes, -1);
    EXPECT_EQ(r.error, EIO) << std::strerror(r.error);
    EXPECT_GE(fs.failed(), 1u);
    fs.heal();
    EXPECT_EQ(direct_io(fs.device(), 0, false).bytes, 4096);
}

TEST(FaultFsTest, HungThenEioFailsTheHeldRequestOnRelease) {
    SKIP_WITHOUT_FAULTFS();
    FaultFsFixture fs;
    fs.hang();
    auto reader = std::async(std::launch::async, [&] { return direct_io(fs.device(), 0, false); });
    ASSERT_TRUE(fs.wait_held(1));
    fs.fail_eio();  // the lower layer gives up on what it held (a SCSI EH timeout)
    fs.release();
    ASSERT_EQ(reader.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(reader.get().error, EIO);
}

TEST(FaultFsTest, RejectsUnknownCommands) {
    SKIP_WITHOUT_FAULTFS();
    FaultFsFixture fs;
    std::ofstream ctl(fs.mountpoint() + "/ctl");
    ctl << "explode" << std::flush;
    EXPECT_TRUE(ctl.fail());
}

TEST(FaultFsTest, TeardownCleansUpWithARequestStillHung) {
    SKIP_WITHOUT_FAULTFS();
    std::string mountpoint, device;
    std::future<DirectIoResult> reader;
    {
        FaultFsFixture fs;
        mountpoint = fs.mountpoint();
        device = fs.loop().name();
        fs.hang();
        reader = std::async(std::launch::async,
                            [dev = fs.device()] { return direct_io(dev, 0, false); });
        ASSERT_TRUE(fs.wait_held(1));
    }  // as if the test had failed here
    ASSERT_EQ(reader.wait_for(10s), std::future_status::ready);
    EXPECT_EQ(read_file("/proc/self/mountinfo").find(mountpoint), std::string::npos);
    EXPECT_EQ(::access(("/sys/block/" + device + "/loop/backing_file").c_str(), F_OK), -1)
        << device << " still attached";
}

TEST(FaultFsTest, ServerCrashFailsHungRequestsAndTeardownStillCleansUp) {
    SKIP_WITHOUT_FAULTFS();
    std::string mountpoint, device;
    {
        FaultFsFixture fs;
        mountpoint = fs.mountpoint();
        device = fs.loop().name();
        fs.hang();
        auto reader =
            std::async(std::launch::async, [&] { return direct_io(fs.device(), 0, false); });
        ASSERT_TRUE(fs.wait_held(1));
        fs.crash();
        ASSERT_EQ(reader.wait_for(5s), std::future_status::ready);
        EXPECT_EQ(reader.get().error, EIO);
        EXPECT_THROW(fs.heal(), std::runtime_error);  // ctl is gone with the server
    }
    EXPECT_EQ(read_file("/proc/self/mountinfo").find(mountpoint), std::string::npos);
    EXPECT_EQ(::access(("/sys/block/" + device + "/loop/backing_file").c_str(), F_OK), -1);
}

TEST(FaultFsTest, LoopDirectIoOverFuse) {
    SKIP_WITHOUT_FAULTFS();
    // Records what this kernel does when loop is asked for direct I/O over a FUSE file, and
    // that hangs still reach the server in that mode.
    FaultFsFixture fs(FaultFsFixture::Options{.loop_direct_io = true});
    RecordProperty("loop_dio_active", fs.loop().direct_io_active() ? "1" : "0");
    fs.hang();
    auto reader = std::async(std::launch::async, [&] { return direct_io(fs.device(), 0, false); });
    ASSERT_TRUE(fs.wait_held(1)) << fs.status();
    EXPECT_GT(fs.loop().inflight(), 0u);
    fs.release();
    ASSERT_EQ(reader.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(reader.get().bytes, 4096);
}

}  // namespace
}  // namespace iohealth::testing
