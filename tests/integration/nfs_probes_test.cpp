// The NFS eBPF probes on a real NFS mount. This host's kernel has no NFS: the test runs in the
// qemu guest (tests/vm/scenarios/nfs-*.sh set IOHEALTH_TEST_NFS_MOUNT to a mount of the
// guest's own loopback server) and skips elsewhere.
#include <gtest/gtest.h>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "integration/direct_io.h"
#include "sources/bpf/bpf_block_devices.h"
#include "sources/nfs/nfs_mounts.h"
#include "sources/nfs/nfs_probes.h"

namespace iohealth {
namespace {

// Every RPC in flight counts, whatever its age.
constexpr std::uint64_t kEveryRpc = ~std::uint64_t{0};

class NfsProbesTest : public ::testing::Test {
  protected:
    void SetUp() override {
        const char* mount = std::getenv("IOHEALTH_TEST_NFS_MOUNT");
        if (mount == nullptr)
            GTEST_SKIP() << "IOHEALTH_TEST_NFS_MOUNT is not set (runs in the VM tier)";
        auto m = find_nfs_mount(list_nfs_mounts(), mount);
        ASSERT_TRUE(m) << mount << " is not an NFS mount";
        mount_ = *m;
        auto made = NfsProbes::make();
        ASSERT_TRUE(made) << made.error();
        probes_ = std::move(*made);
    }

    NfsMount mount_;
    std::unique_ptr<NfsProbes> probes_;
};

TEST_F(NfsProbesTest, DirectWritesAndReadsAreCountedOnTheMountAndItsTransport) {
    const std::string file = mount_.target + "/nfs-probes-test";
    for (int i = 0; i < 8; ++i) std::ofstream(file + std::to_string(i)).flush();
    const auto before = probes_->read(kEveryRpc);
    for (int i = 0; i < 8; ++i) {
        const auto w = testing::direct_io(file + std::to_string(i), 0, true, 'x');
        ASSERT_EQ(w.bytes, 4096) << std::strerror(w.error);
    }
    const auto after = probes_->read(kEveryRpc);

    const auto kdev = kernel_dev(mount_.dev);
    ASSERT_TRUE(after.mounts.contains(kdev));
    const auto& m = after.mounts.at(kdev);
    const auto prev = before.mounts.contains(kdev) ? before.mounts.at(kdev) : NfsMountCounters{};
    EXPECT_GE(m.completed - prev.completed, 8u);
    EXPECT_GE(m.latency[1].count() - prev.latency[1].count(), 8u);
    EXPECT_EQ(m.errors[0] + m.errors[1] + m.errors[2],
              prev.errors[0] + prev.errors[1] + prev.errors[2]);
    EXPECT_GT(m.last_complete_ns, 0u);

    bool transport = false;
    for (const auto& [id, t] : after.transports) {
        if (t.server != mount_.options.server_addr) continue;
        transport = true;
        EXPECT_GT(t.replies, 0u);
        EXPECT_GT(t.last_reply_ns, 0u);
    }
    EXPECT_TRUE(transport) << "no transport to " << mount_.options.server_addr;
    EXPECT_FALSE(after.data_in_flight.contains(kdev)) << "every write completed";
    EXPECT_EQ(probes_->diagnostics().inflight_update_failed, 0u);
    EXPECT_EQ(probes_->diagnostics().device_update_failed, 0u);
}

}  // namespace
}  // namespace iohealth
