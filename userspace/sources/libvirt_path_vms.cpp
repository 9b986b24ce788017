#include "sources/libvirt_path_vms.h"

#include <algorithm>

#include <fmt/format.h>

#include "sources/libvirt_disk_location.h"

namespace iohealth {
namespace {

bool any_image_on(const std::vector<DiskLocation>& images, const WatchedPath& path) {
    return std::any_of(images.begin(), images.end(),
                       [&](const DiskLocation& l) { return image_on_path(l, path); });
}

}  // namespace

bool image_on_path(const DiskLocation& image, const WatchedPath& path) {
    if (path.dev && image.dev && *path.dev == *image.dev) return true;
    return path.config->kind == PathKind::kMount && !image.mount_point.empty() &&
           image.mount_point == normal_mount_point(path.config->target);
}

std::map<std::string, PathVms> PathVmTracker::collect(const VmSnapshot& snapshot,
                                                      const std::vector<WatchedPath>& paths) {
    std::map<std::string, PathVms> out;
    for (const WatchedPath& path : paths) {
        PathVms& p = out[path.config->name];
        for (const Vm& vm : snapshot.vms) {
            const bool on = std::any_of(vm.disks.begin(), vm.disks.end(), [&](const VmDisk& d) {
                return any_image_on(d.images, path);
            });
            if (!on) continue;
            p.vms.push_back({vm.name, vm_state_text(vm.state, vm.reason)});
            if (paused_on_io_error(vm)) p.paused_on_io_error.push_back(vm.name);
        }
        for (const VmIoError& e : snapshot.io_errors) {
            if (e.seq <= seen_ || !any_image_on(e.where, path)) continue;
            ++p.io_errors;
            p.last_io_error = fmt::format("{} {}: {}", e.vm, e.disk, e.reason);
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
