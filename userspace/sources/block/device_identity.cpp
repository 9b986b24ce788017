#include "sources/block/device_identity.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <fmt/format.h>
#include <filesystem>
#include <fstream>

#include "sources/block/block_devices.h"

namespace iohealth {
namespace {

constexpr std::string_view kDeletedSuffix = " (deleted)";

// One sysfs attribute, its trailing newline dropped; empty when it does not exist.
std::string sysfs_value(const std::string& path) {
    std::ifstream in(path);
    std::string value;
    std::getline(in, value);
    return value;
}

std::string file_name(const std::string& link) {
    const auto slash = link.rfind('/');
    return slash == std::string::npos ? link : link.substr(slash + 1);
}

}  // namespace

std::optional<DeviceIdentity> read_device_identity(dev_t dev, const std::string& node) {
    const std::string dir = "/sys/dev/block/" + format_dev(dev);
    std::error_code ec;
    const auto target = std::filesystem::read_symlink(dir, ec);
    if (ec) return std::nullopt;
    DeviceIdentity id;
    id.dev = dev;
    id.name = file_name(target.string());
    id.backing_file = sysfs_value(dir + "/loop/backing_file");
    if (id.backing_file.ends_with(kDeletedSuffix)) {
        id.backing_file.resize(id.backing_file.size() - kDeletedSuffix.size());
        id.backing_deleted = true;
    }
    for (const char* attr : {"/serial", "/device/serial", "/device/wwid", "/wwid"}) {
        id.serial = sysfs_value(dir + attr);
        if (!id.serial.empty()) break;
    }
    if (!node.empty()) {
        struct stat st {};
        if (::stat(node.c_str(), &st) == 0 && S_ISBLK(st.st_mode)) id.node_dev = st.st_rdev;
    }
    return id;
}

DeviceCheck compare_identity(const DeviceIdentity& then, const std::optional<DeviceIdentity>& now) {
    if (!now)
        return {DeviceFate::kLost, fmt::format("{} ({}) is gone", then.name, format_dev(then.dev))};
    if (then.node_dev && now->node_dev != then.node_dev)
        return now->node_dev ? DeviceCheck{DeviceFate::kReplaced,
                                           fmt::format("the node is now device {}, was {}",
                                                       format_dev(*now->node_dev),
                                                       format_dev(*then.node_dev))}
                             : DeviceCheck{DeviceFate::kLost, "the device node is gone"};
    if (!then.backing_file.empty() && now->backing_file.empty())
        return {DeviceFate::kLost,
                fmt::format("{} was detached from {}", then.name, then.backing_file)};
    if (now->backing_file != then.backing_file)
        return {DeviceFate::kReplaced, fmt::format("{} now reads {}, was {}", now->name,
                                                   now->backing_file, then.backing_file)};
    if (!then.serial.empty() && now->serial != then.serial)
        return {DeviceFate::kReplaced,
                fmt::format("{} has serial '{}', was '{}'", now->name, now->serial, then.serial)};
    if (now->backing_deleted)
        return {DeviceFate::kBackingFileDeleted,
                fmt::format("{} reads {}, which was deleted", now->name, now->backing_file)};
    return {};
}

}  // namespace iohealth
