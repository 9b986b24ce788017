#pragma once
// What the libvirt source knows about this host's running guests: each active domain, its
// state, and where each of its disks lives (a block device, or a file on a mount). Plain
// values: the source thread builds them, the main loop reads copies.
#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.h"

namespace iohealth {

// One image a disk depends on: the disk's own source or an image of its backing chain.
struct DiskLocation {
    std::string type;  // libvirt's disk/source type: "block", "file", "network", "volume", ...
    std::string path;  // /dev/... for block, the file for file; empty when libvirt gives none
    // The whole disk the image lives on: the block device itself, or the block device behind
    // the file's mount. A file on a network mount (NFS) has the mount's anonymous device.
    std::optional<dev_t> dev;
    std::string mount_point;  // file images: the mount the file is on
    std::string error;        // why the location is unknown, when it is

    bool operator==(const DiskLocation&) const = default;
};

struct VmDisk {
    std::string target;                // "vda"
    std::string alias;                 // "virtio-disk0" (live XML of qemu domains)
    std::string device;                // "disk", "cdrom", "floppy", "lun"
    std::vector<DiskLocation> images;  // the source first, then its backing chain

    bool operator==(const VmDisk&) const = default;
};

struct Vm {
    std::string uuid;
    std::string name;
    int state = 0;   // virDomainState
    int reason = 0;  // the state's reason (virDomainPausedReason, ...)
    std::vector<VmDisk> disks;

    bool operator==(const Vm&) const = default;
};

// "running", "paused (I/O error)", ...: the words of `virsh domstate --reason` for paused
// guests, of `virsh domstate` for the other states.
std::string vm_state_text(int state, int reason);
// Paused because a disk returned an error (qemu's werror/rerror=stop).
bool paused_on_io_error(const Vm& vm);

// libvirt's reason of an I/O error as the reason text says it. QEMU's driver sends an empty
// reason for most errors (its BLOCK_IO_ERROR event carries only "nospace"), so "" reads
// "I/O error (no reason given by the hypervisor)"; "enospc", "eio", ... as sent.
std::string io_error_reason_text(std::string_view reason);

// One VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON event.
struct VmIoError {
    std::uint64_t seq = 0;  // increases by one per event, never reused while the source lives
    TimePoint at{};
    std::string vm;      // the guest's name
    std::string disk;    // its target ("vda") when the disk is known, else libvirt's alias
    std::string source;  // the image libvirt names
    std::string reason;  // libvirt's reason: "" (qemu, most errors), "enospc", "eio", ...
    std::vector<DiskLocation> where;  // the disk's images (the source alone if the disk is unknown)
};

struct VmSnapshot {
    std::string uri;
    bool connected = false;
    std::string error;               // why not connected
    std::optional<TimePoint> as_of;  // the last time the guest list was known to be current
    std::vector<Vm> vms;  // active domains, by name; the last known ones when disconnected
    std::deque<VmIoError> io_errors;  // the most recent events, oldest first
};

}  // namespace iohealth
