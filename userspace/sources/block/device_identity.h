#pragma once
// Which device a block path really reads: its number, and what tells two devices at the same
// number apart (a loop device's backing file, a disk's serial). Taken when the path is
// resolved and compared on every tick, so a monitored device that is removed (`losetup -d`),
// replaced by another at the same node, or whose backing file is deleted is reported as
// exactly that. Only sysfs and stat() of /dev (devtmpfs) are read, never the device itself:
// safe in the main loop.
#include <sys/types.h>

#include <optional>
#include <string>

#include "core/evidence.h"

namespace iohealth {

struct DeviceIdentity {
    dev_t dev = 0;                  // the whole disk
    std::optional<dev_t> node_dev;  // what the configured node (/dev/...) was, if any
    std::string name;               // "loop3", "vda"
    std::string backing_file;       // loop devices; empty when detached
    bool backing_deleted = false;   // the kernel marks the file " (deleted)"
    std::string serial;             // serial or WWID, when the device has one
    bool operator==(const DeviceIdentity&) const = default;
};

// The identity of `dev` now; `node` (may be empty) is the device node the path names. nullopt
// when sysfs no longer knows the device.
std::optional<DeviceIdentity> read_device_identity(dev_t dev, const std::string& node);

struct DeviceCheck {
    DeviceFate fate = DeviceFate::kPresent;
    std::string detail;  // what changed, for the log and the reason ("" when present)
    bool operator==(const DeviceCheck&) const = default;
};

// What became of the device identified as `then` at resolve time, seen as `now`.
DeviceCheck compare_identity(const DeviceIdentity& then, const std::optional<DeviceIdentity>& now);

}  // namespace iohealth
