// Where request-based disks live in the probes' arrays (sources/bpf/device_slots.h): every
// placed device is found where it was placed by find(), the walk bpf/block_rq.bpf.c rq_slot
// does over the same sequence, also after others were removed, and a device whose whole
// sequence is taken is refused, not misplaced.
#include <gtest/gtest.h>
#include <linux/types.h>

#include <set>
#include <vector>

#include "sources/bpf/device_slots.h"
// clang-format off: the shared BPF header needs the __u* types first.
#include "iohealth.h"
// clang-format on

namespace iohealth {
namespace {

std::uint32_t mkdev(std::uint32_t major, std::uint32_t minor) {
    return IOH_MKDEV(major, minor);
}

TEST(DeviceSlots, AHostsDisksAreAllFoundWhereThePlacementPutThem) {
    DeviceSlots slots;
    std::vector<std::uint32_t> devs;
    for (std::uint32_t i = 0; i < 64; ++i) devs.push_back(mkdev(7, i));         // loop
    for (std::uint32_t i = 0; i < 32; ++i) devs.push_back(mkdev(8, 16 * i));    // sd
    for (std::uint32_t i = 0; i < 16; ++i) devs.push_back(mkdev(259, 2 * i));   // nvme
    for (std::uint32_t i = 0; i < 16; ++i) devs.push_back(mkdev(254, 16 * i));  // virtio
    std::set<std::uint32_t> used;
    std::vector<std::uint32_t> placed;
    for (const auto d : devs) {
        const auto k = slots.place(d);
        ASSERT_TRUE(k) << "device " << d;
        EXPECT_TRUE(used.insert(*k).second) << "two devices in slot " << *k;
        placed.push_back(*k);
    }
    for (std::size_t i = 0; i < devs.size(); ++i) {
        EXPECT_EQ(slots.find(devs[i]), placed[i]) << "device " << devs[i];
        EXPECT_EQ(slots.table()[placed[i]], devs[i]);
    }
    // Placing again is finding: the same slot.
    EXPECT_EQ(slots.place(devs[3]), slots.find(devs[3]));
    // A device never placed is not found, though the table is half full.
    EXPECT_FALSE(slots.find(mkdev(9, 127)));
}

TEST(DeviceSlots, ARemovedDeviceDoesNotHideTheOnesPlacedAfterIt) {
    DeviceSlots slots;
    // Devices that share a first slot: the second is placed one further on.
    const std::uint32_t first = mkdev(7, 0);
    std::uint32_t second = 0;
    for (std::uint32_t minor = 1; minor < (1u << 20) && !second; ++minor)
        if (ioh_dev_slot(mkdev(7, minor), 0) == ioh_dev_slot(first, 0)) second = mkdev(7, minor);
    ASSERT_NE(second, 0u);
    const auto a = slots.place(first);
    const auto b = slots.place(second);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(*b, ioh_dev_slot(second, 1));
    slots.remove(*a);
    EXPECT_EQ(slots.table()[*a], DeviceSlots::kGone);
    EXPECT_EQ(slots.find(second), b);
    EXPECT_FALSE(slots.find(first));
    // The freed slot is taken again by the next device that hashes there.
    EXPECT_EQ(slots.place(first), a);
}

TEST(DeviceSlots, ADeviceWhoseWholeSequenceIsTakenIsRefused) {
    DeviceSlots slots;
    const std::uint32_t target = mkdev(8, 0);
    const std::uint32_t start = ioh_dev_slot(target, 0);
    // Fill the target's whole sequence with other devices that start there.
    int filled = 0;
    for (std::uint32_t minor = 1; filled < IOH_DEV_PROBES && minor < (1u << 20); ++minor) {
        const std::uint32_t d = mkdev(7, minor);
        if (ioh_dev_slot(d, 0) != start) continue;
        ASSERT_TRUE(slots.place(d));
        ++filled;
    }
    ASSERT_EQ(filled, IOH_DEV_PROBES);
    EXPECT_FALSE(slots.place(target));
    EXPECT_FALSE(slots.find(target));
}

}  // namespace
}  // namespace iohealth
