// NFS mounts from a mountinfo file (captured in the qemu guest), their options, and the start-up
// check of timeo/retrans/soft against dead_after.
#include <sys/sysmacros.h>

#include <gtest/gtest.h>

#include "sources/nfs/nfs_mounts.h"

namespace iohealth {
namespace {

using namespace std::chrono_literals;

const std::string kMountinfo =
    std::string(IOHEALTH_SOURCE_DIR) + "/tests/fixtures/nfs/mountinfo.txt";

TEST(NfsMounts, ListsNfsMountsWithTheirSuperblockDevice) {
    const auto mounts = list_nfs_mounts(kMountinfo);
    ASSERT_EQ(mounts.size(), 3u);
    EXPECT_EQ(mounts[0].target, "/mnt/nfs");
    EXPECT_EQ(mounts[0].source, "127.0.0.1:/");
    EXPECT_EQ(mounts[0].fstype, "nfs4");
    EXPECT_EQ(mounts[0].dev, makedev(0, 32));
    EXPECT_EQ(mounts[1].target, "/mnt/nfs3");
    EXPECT_EQ(mounts[1].dev, makedev(0, 33));
    EXPECT_EQ(mounts[2].target, "/mnt/nfs space");
    EXPECT_EQ(mounts[2].options.server_addr, "127.0.0.1");
}

TEST(NfsMounts, FindsByMountPointLexically) {
    const auto mounts = list_nfs_mounts(kMountinfo);
    EXPECT_TRUE(find_nfs_mount(mounts, "/mnt/nfs/"));
    EXPECT_TRUE(find_nfs_mount(mounts, "/mnt/./nfs3"));
    EXPECT_FALSE(find_nfs_mount(mounts, "/mnt"));
    EXPECT_EQ(fstype_at("/srv/exp", kMountinfo), "tmpfs");
    EXPECT_EQ(fstype_at("/mnt/nfs space", kMountinfo), "nfs4");
    EXPECT_FALSE(fstype_at("/mnt/nowhere", kMountinfo));
}

TEST(NfsMounts, AnUnreadableTableIsAnErrorNamingTheFile) {
    try {
        list_nfs_mounts("/nonexistent/mountinfo");
        FAIL() << "expected an error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/mountinfo"), std::string::npos);
    }
}

TEST(NfsMounts, ParsesTheOptionsThatDecideHowLongTheClientWaits) {
    const auto mounts = list_nfs_mounts(kMountinfo);
    const auto& hard = mounts[0].options;
    EXPECT_FALSE(hard.soft);
    EXPECT_EQ(hard.timeo_ds, 600);
    EXPECT_EQ(hard.retrans, 2);
    EXPECT_EQ(hard.proto, "tcp");
    EXPECT_EQ(hard.vers, "4.2");
    EXPECT_TRUE(mounts[1].options.soft);
    EXPECT_EQ(mounts[1].options.timeo_ds, 100);

    EXPECT_TRUE(parse_nfs_options("rw,softerr,timeo=x").soft);
    EXPECT_FALSE(parse_nfs_options("rw,softerr,timeo=x").timeo_ds);
    EXPECT_FALSE(parse_nfs_options("soft,hard").soft);  // the last one wins, as in the kernel
}

TEST(NfsMounts, MajorTimeoutFollowsNfs5) {
    // TCP: timeo x (retrans + 1).
    EXPECT_EQ(parse_nfs_options("hard,proto=tcp,timeo=600,retrans=2").major_timeout(), 180s);
    EXPECT_EQ(parse_nfs_options("hard,proto=tcp,timeo=100,retrans=3").major_timeout(), 40s);
    EXPECT_EQ(parse_nfs_options("hard,proto=tcp").major_timeout(), 180s);  // defaults
    EXPECT_EQ(parse_nfs_options("hard,proto=tcp").first_retry(), 60s);
    // UDP: doubling from timeo, capped at 60 s: 1.1 + 2.2 + 4.4 + 8.8 s.
    EXPECT_EQ(parse_nfs_options("proto=udp").major_timeout(), 16500ms);
    EXPECT_EQ(parse_nfs_options("proto=udp,timeo=400,retrans=2").major_timeout(), 40s + 60s + 60s);
}

TEST(NfsMounts, StartupCheckWarnsWhenTheClientRetriesAfterTheDeadline) {
    auto m = list_nfs_mounts(kMountinfo)[0];  // hard, timeo=600 retrans=2
    auto ok = check_nfs_timeouts(m, 75s);     // the nfs preset's dead_after
    EXPECT_TRUE(ok.warnings.empty());
    EXPECT_NE(ok.summary.find("hard"), std::string::npos);
    EXPECT_NE(ok.summary.find("after 60s and reports the server not responding after 180s"),
              std::string::npos)
        << ok.summary;

    const auto late = check_nfs_timeouts(m, 25s);  // the block default
    ASSERT_EQ(late.warnings.size(), 1u);
    EXPECT_NE(late.warnings[0].find("/mnt/nfs"), std::string::npos);
    EXPECT_NE(late.warnings[0].find("timeo=600"), std::string::npos);
    EXPECT_NE(late.warnings[0].find("retried once"), std::string::npos) << late.warnings[0];
}

TEST(NfsMounts, StartupCheckWarnsAboutSoftMounts) {
    const auto m = list_nfs_mounts(kMountinfo)[1];  // soft, timeo=100 retrans=3
    const auto c = check_nfs_timeouts(m, 75s);
    ASSERT_EQ(c.warnings.size(), 1u);
    EXPECT_NE(c.warnings[0].find("soft"), std::string::npos);
    EXPECT_NE(c.warnings[0].find("EIO after 40s"), std::string::npos) << c.warnings[0];
}

}  // namespace
}  // namespace iohealth
