#pragma once
// Block device facts the BPF loader needs from sysfs: which whole disk a device number
// belongs to, whether that disk is request-based (blk-mq) or bio-based, and the kernel's own
// in-flight count.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace iohealth {

// The kernel's dev_t encoding (major << 20 | minor), as the probes see it; userspace dev_t
// (st_rdev, makedev) encodes differently.
std::uint32_t kernel_dev(dev_t dev);
dev_t user_dev(std::uint32_t kdev);

// "/sys/dev/block/M:m"
std::string sysfs_dev_dir(dev_t dev);

// blk-mq disks have an mq/ directory; bio-based ones (DRBD, dm, md, zram) do not.
bool is_request_based(dev_t disk);

// queue/iostats: without it the kernel keeps no in-flight or timing accounting for the disk
// (and rq->start_time_ns stays 0).
bool queue_does_io_accounting(dev_t disk);

// /sys/dev/block/M:m/inflight, reads + writes. For blk-mq disks: requests started in the
// driver; for bio-based disks: bios between bio_start_io_acct and bio_end_io_acct.
std::optional<std::uint32_t> kernel_in_flight(dev_t dev);

}  // namespace iohealth
