#pragma once
// This machine's block devices, through libudev (which reads sysfs; no udev daemon needed).
// Start-up and config-time helpers only: resolving a mount point may stat() it, which can
// block on a dead NFS mount, so the main loop never calls these.
#include <sys/types.h>

#include <string>
#include <vector>

namespace iohealth {

struct BlockDevice {
    std::string name;          // kernel name: "vda", "loop3", "drbd1000"
    dev_t dev = 0;             // major:minor of the whole disk
    std::string devnode;       // "/dev/vda"
    std::string backing_file;  // loop devices: the file behind it
};

// Whole disks worth monitoring, sorted by name. Left out, and why:
//  - partitions: their I/O is counted in the whole disk as well;
//  - devices of size 0: an unbound loop device (no backing file), an empty drive, an
//    unconnected nbd;
//  - ram* (brd) and zram*: memory, not storage. A stall there is memory pressure, and no
//    fence action would help it.
std::vector<BlockDevice> list_block_devices();

// A block device node ("/dev/vda1", "/dev/disk/by-id/...") or a mount point to the device
// number of the block device behind it. Mount points are looked up in /proc/self/mountinfo
// by exact string (libmount without a cache: no stat() of the mount itself). Throws
// std::runtime_error naming the path when it is neither, or when the mount is not backed by
// a block device (NFS, tmpfs, FUSE).
dev_t resolve_block_device(const std::string& path);

// The whole disk a partition belongs to; a whole disk maps to itself. Throws
// std::runtime_error when sysfs does not know the device.
dev_t whole_disk(dev_t dev);

// "8:1"
std::string format_dev(dev_t dev);

}  // namespace iohealth
