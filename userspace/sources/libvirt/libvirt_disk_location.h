#pragma once
// Where a guest's disk image lives: the block device behind it, or the mount its file is on.
// Files are placed by the mount table alone (libmount, /proc/self/mountinfo): the image may be
// on an NFS mount that no longer answers, and a stat() there would hang the caller. Block
// images are stat()ed: device nodes live on devtmpfs.
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "sources/libvirt/libvirt_vm.h"

namespace iohealth {

class MountTable {
  public:
    struct Mount {
        std::string target;  // the mount point
        std::string source;  // "/dev/vdb1", "server:/export"
        std::string fstype;
        dev_t dev = 0;  // st_dev of files on it (mountinfo's major:minor)
    };

    // Reads /proc/self/mountinfo; throws std::runtime_error when it cannot.
    static MountTable read();
    explicit MountTable(std::vector<Mount> mounts) : mounts_(std::move(mounts)) {}

    // The mount `file` is on: the longest mount point that is a leading part of it, whole
    // components compared as strings ("/mnt/a" holds "/mnt/a/x", not "/mnt/ab"); of several
    // mounts on one point the last (the one on top).
    std::optional<Mount> containing(const std::string& file) const;

  private:
    std::vector<Mount> mounts_;  // in mount order
};

// Fills l.dev, l.mount_point and l.error from l.type and l.path.
void locate(DiskLocation& l, const MountTable& mounts);

// A mount point as the mount table spells it: lexically normal, no trailing slash.
std::string normal_mount_point(const std::string& path);

}  // namespace iohealth
