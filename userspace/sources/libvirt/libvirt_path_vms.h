#pragma once
// Which guests each monitored path carries, and what their disks reported: the libvirt
// snapshot (sources/libvirt_source.h) matched against the configured paths, once per tick on
// the main loop. Pure: no libvirt call, no file system access.
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/evidence.h"
#include "core/policy.h"
#include "sources/libvirt/libvirt_vm.h"

namespace iohealth {

struct VmOnPath {
    std::string name;
    std::string state;  // vm_state_text()
    bool operator==(const VmOnPath&) const = default;
};

struct PathVms {
    std::vector<VmOnPath> vms;    // guests with a disk image on the path, by name
    std::uint64_t io_errors = 0;  // their disks' I/O-error events since the previous collect()
    std::string last_io_error;    // the latest of those: "vm1 vda: enospc"
    // The guests paused by an I/O error of a disk on this path (the disks their I/O-error
    // events named; every path of the guest when no event named one).
    std::vector<std::string> paused_on_io_error;
};

// A monitored path and the whole disk behind it, when known (device and DRBD paths; a mount
// backed by a block device; an NFS mount's anonymous device).
struct WatchedPath {
    const PathConfig* config = nullptr;
    std::optional<dev_t> dev;
};

class PathVmTracker {
  public:
    // Each path's guests, and the I/O errors reported since the previous call, by path name.
    // An image is on a path when it lives on the path's device, or (mount paths) is a file on
    // the path's mount point.
    std::map<std::string, PathVms> collect(const VmSnapshot& snapshot,
                                           const std::vector<WatchedPath>& paths);
    // The last I/O-error event counted: a snapshot needs only the later ones.
    std::uint64_t seen() const { return seen_; }

  private:
    std::uint64_t seen_ = 0;  // the last I/O-error event counted
    // By guest name, the images of each disk (by target) an I/O-error event named, kept until
    // the guest is no longer paused on an I/O error: a pause is blamed on those disks' paths.
    std::map<std::string, std::map<std::string, std::vector<DiskLocation>>> errored_;
    std::map<std::string, bool> paused_;  // by guest name: paused on an I/O error last time
};

// The tick's guest evidence into the path's facts.
void add_vm_facts(const PathVms& vms, StorageFacts& facts);

}  // namespace iohealth
