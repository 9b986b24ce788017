#include "sources/libvirt/libvirt_disk_location.h"

#include <libmount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <fmt/format.h>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "sources/block/block_devices.h"

namespace iohealth {
namespace {

struct MntUnref {
    void operator()(libmnt_table* t) const { mnt_unref_table(t); }
    void operator()(libmnt_iter* i) const { mnt_free_iter(i); }
};

std::string or_empty(const char* s) {
    return s ? s : "";
}

// The whole disk behind a device number; a device sysfs does not know (the anonymous device
// of NFS, tmpfs, btrfs) is kept as it is.
dev_t whole_disk_or_self(dev_t dev) {
    if (major(dev) == 0) return dev;
    try {
        return whole_disk(dev);
    } catch (const std::runtime_error&) {
        return dev;
    }
}

}  // namespace

std::string normal_mount_point(const std::string& path) {
    std::string out = std::filesystem::path(path).lexically_normal().string();
    if (out.size() > 1 && out.ends_with('/')) out.pop_back();
    return out;
}

MountTable MountTable::read() {
    std::unique_ptr<libmnt_table, MntUnref> table(mnt_new_table());
    std::unique_ptr<libmnt_iter, MntUnref> iter(mnt_new_iter(MNT_ITER_FORWARD));
    if (!table || !iter) throw std::runtime_error("Failed to read the mount table: out of memory");
    if (const int rc = mnt_table_parse_file(table.get(), "/proc/self/mountinfo"); rc != 0)
        throw std::runtime_error(fmt::format("Failed to read /proc/self/mountinfo: {}",
                                             std::strerror(rc < 0 ? -rc : EINVAL)));
    std::vector<Mount> mounts;
    libmnt_fs* fs = nullptr;
    while (mnt_table_next_fs(table.get(), iter.get(), &fs) == 0)
        mounts.push_back({or_empty(mnt_fs_get_target(fs)), or_empty(mnt_fs_get_source(fs)),
                          or_empty(mnt_fs_get_fstype(fs)), mnt_fs_get_devno(fs)});
    return MountTable(std::move(mounts));
}

std::optional<MountTable::Mount> MountTable::containing(const std::string& file) const {
    const Mount* best = nullptr;
    for (const Mount& m : mounts_) {
        const bool holds =
            m.target == "/" || (file.starts_with(m.target) &&
                                (file.size() == m.target.size() || file[m.target.size()] == '/'));
        if (holds && (!best || m.target.size() >= best->target.size())) best = &m;
    }
    if (!best) return std::nullopt;
    return *best;
}

void locate(DiskLocation& l, const MountTable& mounts) {
    l.dev.reset();
    l.mount_point.clear();
    l.error.clear();
    if (l.type == "block") {
        struct stat st {};
        if (::stat(l.path.c_str(), &st) != 0)
            l.error = fmt::format("{}: {}", l.path, std::strerror(errno));
        else if (!S_ISBLK(st.st_mode))
            l.error = fmt::format("{}: not a block device", l.path);
        else
            l.dev = whole_disk_or_self(st.st_rdev);
        return;
    }
    if (l.type == "file" || l.type == "dir") {
        if (!l.path.starts_with('/')) {
            l.error = fmt::format("'{}': not an absolute path", l.path);
            return;
        }
        const std::string file = std::filesystem::path(l.path).lexically_normal().string();
        if (const auto m = mounts.containing(file)) {
            l.mount_point = m->target;
            l.dev = whole_disk_or_self(m->dev);
        } else {
            l.error = fmt::format("{}: on no mount", l.path);
        }
        return;
    }
    l.error = fmt::format("a {} disk ({}) is not on this host's storage", l.type, l.path);
}

}  // namespace iohealth
