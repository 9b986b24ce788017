// The eBPF probes against faults injected through the FUSE harness: a loop device whose
// requests really fail with EIO, or really hang in the kernel until released.
#include <unistd.h>

#include <gtest/gtest.h>

#include <future>

#include "harness/faultfs_fixture.h"
#include "integration/direct_io.h"
#include "sources/bpf/bpf_block_source.h"

namespace iohealth {
namespace {

using namespace std::chrono_literals;

class BpfFaultFsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root (CAP_BPF, loop devices, FUSE)";
        if (::access("/sys/kernel/btf/vmlinux", R_OK) != 0)
            GTEST_SKIP() << "no kernel BTF at /sys/kernel/btf/vmlinux";
        if (::access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "no /dev/fuse";
    }
    static std::unique_ptr<BpfBlockSource> make(BpfOptions options = {}) {
        auto result = BpfBlockSource::make(options);
        if (!result) throw std::runtime_error(result.error());
        return std::move(*result);
    }
    SteadyClock clock;
};

TEST_F(BpfFaultFsTest, InjectedEioIsCountedAsAnIoError) {
    testing::FaultFsFixture fs;
    auto source = make();
    source->set_devices({fs.loop().dev()});
    source->collect(clock.now());  // baseline
    fs.fail_eio();
    constexpr int kFailures = 5;
    for (int i = 0; i < kFailures; ++i) {
        const auto r = testing::direct_io(fs.device(), i * 4096, /*write=*/false);
        ASSERT_LT(r.bytes, 0);
        ASSERT_EQ(r.error, EIO);
    }
    const auto out = source->collect(clock.now());
    ASSERT_EQ(out.count(fs.loop().dev()), 1u);
    const KernelEvidence& k = out.at(fs.loop().dev());
    EXPECT_EQ(k.completed, static_cast<std::uint64_t>(kFailures));
    EXPECT_EQ(k.errors.io, static_cast<std::uint64_t>(kFailures));
    EXPECT_EQ(k.succeeded(), 0u);
    fs.heal();
    ASSERT_EQ(testing::direct_io(fs.device(), 0, /*write=*/false).bytes, 4096);
    const auto healed = source->collect(clock.now()).at(fs.loop().dev());
    EXPECT_EQ(healed.succeeded(), 1u);
    EXPECT_EQ(healed.errors.total(), 0u);
}

TEST_F(BpfFaultFsTest, HungRequestAgeGrowsWithWallTimeUntilReleased) {
    testing::FaultFsFixture fs;
    auto source = make(BpfOptions{.per_request = true});
    source->set_devices({fs.loop().dev()});
    source->collect(clock.now());
    fs.hang();
    auto io = std::async(std::launch::async,
                         [&] { return testing::direct_io(fs.device(), 0, /*write=*/false); });
    ASSERT_TRUE(fs.wait_held(1));
    const auto first = source->collect(clock.now()).at(fs.loop().dev());
    std::this_thread::sleep_for(1500ms);
    const auto second = source->collect(clock.now()).at(fs.loop().dev());
    ASSERT_TRUE(first.oldest_in_flight_age && second.oldest_in_flight_age);
    EXPECT_GE(first.in_flight, 1u);
    EXPECT_EQ(second.completed, 0u);
    EXPECT_GE(*second.oldest_in_flight_age - *first.oldest_in_flight_age, 1400ms);
    fs.release();
    ASSERT_EQ(io.get().bytes, 4096);
    const auto done = source->collect(clock.now()).at(fs.loop().dev());
    EXPECT_EQ(done.succeeded(), 1u);
    EXPECT_EQ(done.oldest_in_flight_age.value_or(1h), 0us);  // per-request mode: zero when idle
    EXPECT_GE(done.latency.max(), 1s);  // the request's whole life, hang included
}

}  // namespace
}  // namespace iohealth
