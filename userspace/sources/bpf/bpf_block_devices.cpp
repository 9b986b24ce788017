#include "sources/bpf/bpf_block_devices.h"

#include <sys/sysmacros.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace iohealth {

std::uint32_t kernel_dev(dev_t dev) {
    return (static_cast<std::uint32_t>(major(dev)) << 20) |
           (static_cast<std::uint32_t>(minor(dev)) & 0xfffff);
}

dev_t user_dev(std::uint32_t kdev) {
    return makedev(kdev >> 20, kdev & 0xfffff);
}

std::string sysfs_dev_dir(dev_t dev) {
    return "/sys/dev/block/" + std::to_string(major(dev)) + ":" + std::to_string(minor(dev));
}

bool is_request_based(dev_t disk) {
    return ::access((sysfs_dev_dir(disk) + "/mq").c_str(), F_OK) == 0;
}

bool queue_does_io_accounting(dev_t disk) {
    std::ifstream in(sysfs_dev_dir(disk) + "/queue/iostats");
    int value = 0;
    return (in >> value) && value == 1;
}

std::optional<std::uint32_t> kernel_in_flight(dev_t dev) {
    std::ifstream in(sysfs_dev_dir(dev) + "/inflight");
    std::uint32_t reads = 0, writes = 0;
    if (!(in >> reads >> writes)) return std::nullopt;
    return reads + writes;
}

}  // namespace iohealth
