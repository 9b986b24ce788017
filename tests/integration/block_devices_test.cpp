// Block device discovery and resolution on this machine's real sysfs and mount table.
#include "sources/block/block_devices.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/blkpg.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "integration/loop_device.h"
#include "integration/run_command.h"
#include "integration/scoped_mount.h"
#include "integration/temp_dir.h"

namespace iohealth {
namespace {

using testing::LoopDevice;
using testing::TempDir;

#define SKIP_WITHOUT_LOOP()                                                  \
    if (::geteuid() != 0 || ::access("/dev/loop-control", R_OK | W_OK) != 0) \
    GTEST_SKIP() << "needs root and loop devices"

const BlockDevice* find(const std::vector<BlockDevice>& devices, const std::string& name) {
    const auto it = std::find_if(devices.begin(), devices.end(),
                                 [&](const BlockDevice& d) { return d.name == name; });
    return it == devices.end() ? nullptr : &*it;
}

TEST(BlockDevicesTest, ListsBoundLoopDevicesAndSkipsMemoryAndUnboundOnes) {
    SKIP_WITHOUT_LOOP();
    TempDir dir;
    const std::string image = dir.path() + "/disk.img";
    testing::make_sparse_file(image, 8 << 20);
    LoopDevice loop(image);
    const auto devices = list_block_devices();
    const BlockDevice* bd = find(devices, loop.name());
    ASSERT_NE(bd, nullptr) << loop.name() << " not listed";
    EXPECT_EQ(bd->dev, loop.dev());
    EXPECT_EQ(bd->devnode, loop.path());
    EXPECT_EQ(bd->backing_file, image);
    for (const auto& d : devices) {
        EXPECT_FALSE(d.name.starts_with("zram") || d.name.starts_with("ram")) << d.name;
        if (d.name.starts_with("loop")) {
            EXPECT_FALSE(d.backing_file.empty()) << d.name;
        }
        EXPECT_EQ(::access(("/sys/block/" + d.name + "/partition").c_str(), F_OK), -1)
            << d.name << " is a partition";
    }
    EXPECT_TRUE(std::is_sorted(devices.begin(), devices.end(),
                               [](const auto& a, const auto& b) { return a.name < b.name; }));
}

TEST(BlockDevicesTest, ResolvesADeviceNode) {
    SKIP_WITHOUT_LOOP();
    TempDir dir;
    testing::make_sparse_file(dir.path() + "/disk.img", 8 << 20);
    LoopDevice loop(dir.path() + "/disk.img");
    EXPECT_EQ(resolve_block_device(loop.path()), loop.dev());
    EXPECT_EQ(whole_disk(loop.dev()), loop.dev());
    EXPECT_EQ(format_dev(loop.dev()), "7:" + std::to_string(loop.number()));
}

TEST(BlockDevicesTest, ResolvesAMountPointToItsDevice) {
    SKIP_WITHOUT_LOOP();
    if (!testing::run_quiet({"mkfs.ext4", "-V"})) GTEST_SKIP() << "mkfs.ext4 not installed";
    TempDir dir;
    testing::make_sparse_file(dir.path() + "/fs.img", 16 << 20);
    LoopDevice loop(dir.path() + "/fs.img");
    ASSERT_TRUE(testing::run_quiet({"mkfs.ext4", "-q", "-F", loop.path()}));
    const std::string mnt = dir.path() + "/mnt";
    std::filesystem::create_directory(mnt);
    testing::ScopedMount mounted(loop.path(), mnt, "ext4");
    EXPECT_EQ(resolve_block_device(mnt), loop.dev());
    EXPECT_EQ(resolve_block_device(mnt + "/"), loop.dev());  // lexical clean-up only
}

TEST(BlockDevicesTest, RefusesMountsWithoutABlockDevice) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (mount tmpfs)";
    TempDir dir;
    testing::ScopedMount mounted("iohealth-test", dir.path(), "tmpfs", "size=1m");
    try {
        resolve_block_device(dir.path());
        ADD_FAILURE() << "a tmpfs mount resolved to a block device";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(dir.path()), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("tmpfs"), std::string::npos) << e.what();
    }
}

TEST(BlockDevicesTest, RefusesAPlainDirectoryNamingIt) {
    TempDir dir;  // a directory, not a mount point
    try {
        resolve_block_device(dir.path());
        ADD_FAILURE() << "a plain directory resolved";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(dir.path()), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("neither a block device nor a mount point"),
                  std::string::npos)
            << e.what();
    }
}

// Adds partition 1 (1 MiB at 1 MiB) with BLKPG: no partition table parser needed (this
// kernel has none built in, so a partition table would not be read).
void add_partition(const LoopDevice& loop) {
    const int fd = ::open(loop.path().c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    blkpg_partition part{};
    part.start = 1 << 20;
    part.length = 1 << 20;
    part.pno = 1;
    blkpg_ioctl_arg arg{};
    arg.op = BLKPG_ADD_PARTITION;
    arg.datalen = sizeof part;
    arg.data = &part;
    const int rc = ::ioctl(fd, BLKPG, &arg);
    const int err = errno;
    ::close(fd);
    ASSERT_EQ(rc, 0) << "BLKPG_ADD_PARTITION on " << loop.path() << ": " << std::strerror(err);
}

TEST(BlockDevicesTest, WholeDiskOfAPartition) {
    SKIP_WITHOUT_LOOP();
    TempDir dir;
    const std::string image = dir.path() + "/disk.img";
    testing::make_sparse_file(image, 8 << 20);
    // Partitions are allowed on a loop device only with PARTSCAN.
    LoopDevice loop(image, LoopDevice::Options{.partscan = true});
    ASSERT_NO_FATAL_FAILURE(add_partition(loop));
    const std::string part = loop.path() + "p1";
    struct stat st {};
    ASSERT_EQ(::stat(part.c_str(), &st), 0) << part << " did not appear";
    const dev_t partition = resolve_block_device(part);
    EXPECT_NE(partition, loop.dev());
    EXPECT_EQ(whole_disk(partition), loop.dev());
    // Partitions are not listed: their I/O is in the whole disk's counters.
    const auto devices = list_block_devices();
    EXPECT_EQ(find(devices, loop.name() + "p1"), nullptr);
    EXPECT_NE(find(devices, loop.name()), nullptr);
}

TEST(BlockDevicesTest, UnknownDeviceNumberIsAnError) {
    EXPECT_THROW(whole_disk(makedev(4095, 4095)), std::runtime_error);
}

}  // namespace
}  // namespace iohealth
