#include "sources/libvirt/libvirt_path_vms.h"

#include <algorithm>

#include <fmt/format.h>

#include "sources/libvirt/libvirt_disk_location.h"

namespace iohealth {
namespace {

// What an image must match to be on a path, worked out once per path and tick.
struct PathMatch {
    std::optional<dev_t> dev;
    std::string mount_point;  // mount paths only, as the mount table spells it

    explicit PathMatch(const WatchedPath& p) : dev(p.dev) {
        if (p.config->kind == PathKind::kMount) mount_point = normal_mount_point(p.config->target);
    }
    // On the path's device, or (mount paths) a file on the path's mount point.
    bool holds(const DiskLocation& image) const {
        if (dev && image.dev && *dev == *image.dev) return true;
        return !mount_point.empty() && image.mount_point == mount_point;
    }
    bool holds_any(const std::vector<DiskLocation>& images) const {
        return std::any_of(images.begin(), images.end(),
                           [&](const DiskLocation& l) { return holds(l); });
    }
};

}  // namespace

std::map<std::string, PathVms> PathVmTracker::collect(const VmSnapshot& snapshot,
                                                      const std::vector<WatchedPath>& paths) {
    // Which disks each guest's I/O errors came from, forgotten once it runs again.
    for (const VmIoError& e : snapshot.io_errors)
        if (e.seq > seen_) errored_[e.vm][e.disk] = e.where;
    std::map<std::string, bool> paused;
    for (const Vm& vm : snapshot.vms) {
        paused[vm.name] = paused_on_io_error(vm);
        if (!paused[vm.name] && paused_[vm.name]) errored_.erase(vm.name);
    }
    paused_ = std::move(paused);
    std::map<std::string, PathVms> out;
    for (const WatchedPath& path : paths) {
        PathVms& p = out[path.config->name];
        const PathMatch match(path);
        for (const Vm& vm : snapshot.vms) {
            const bool on = std::any_of(vm.disks.begin(), vm.disks.end(),
                                        [&](const VmDisk& d) { return match.holds_any(d.images); });
            if (!on) continue;
            p.vms.push_back({vm.name, vm_state_text(vm.state, vm.reason)});
            if (!paused_on_io_error(vm)) continue;
            const auto errored = errored_.find(vm.name);
            const bool blamed =
                errored == errored_.end() ||
                std::any_of(errored->second.begin(), errored->second.end(),
                            [&](const auto& disk) { return match.holds_any(disk.second); });
            if (blamed) p.paused_on_io_error.push_back(vm.name);
        }
        for (const VmIoError& e : snapshot.io_errors) {
            if (e.seq <= seen_ || !match.holds_any(e.where)) continue;
            ++p.io_errors;
            p.last_io_error =
                fmt::format("{} {}: {}", e.vm, e.disk, io_error_reason_text(e.reason));
        }
    }
    if (!snapshot.io_errors.empty()) seen_ = std::max(seen_, snapshot.io_errors.back().seq);
    return out;
}

void add_vm_facts(const PathVms& vms, StorageFacts& facts) {
    facts.vm_io_errors += vms.io_errors;
    if (!vms.last_io_error.empty()) facts.vm_io_error = vms.last_io_error;
    facts.vms_paused_on_io_error = vms.paused_on_io_error;
}

}  // namespace iohealth
