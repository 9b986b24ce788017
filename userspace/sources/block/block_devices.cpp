#include "sources/block/block_devices.h"

#include <libmount.h>
#include <libudev.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <fmt/format.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string_view>

namespace iohealth {
namespace {

// Owners for the library handles: each calls the library's own unref.
struct UdevUnref {
    void operator()(udev* u) const { udev_unref(u); }
    void operator()(udev_enumerate* e) const { udev_enumerate_unref(e); }
    void operator()(udev_device* d) const { udev_device_unref(d); }
};
template <typename T>
using UdevPtr = std::unique_ptr<T, UdevUnref>;

struct MntUnref {
    void operator()(libmnt_table* t) const { mnt_unref_table(t); }
};

UdevPtr<udev> new_udev() {
    UdevPtr<udev> u(udev_new());
    if (!u) throw std::runtime_error("Failed to create a libudev context");
    return u;
}

std::string_view or_empty(const char* s) {
    return s ? std::string_view(s) : std::string_view();
}

bool is_memory_device(std::string_view name) {
    return name.starts_with("ram") || name.starts_with("zram");
}

}  // namespace

std::string format_dev(dev_t dev) {
    return fmt::format("{}:{}", major(dev), minor(dev));
}

std::vector<BlockDevice> list_block_devices() {
    auto u = new_udev();
    UdevPtr<udev_enumerate> e(udev_enumerate_new(u.get()));
    if (!e) throw std::runtime_error("Failed to enumerate block devices: out of memory");
    udev_enumerate_add_match_subsystem(e.get(), "block");
    udev_enumerate_add_match_property(e.get(), "DEVTYPE", "disk");
    if (const int rc = udev_enumerate_scan_devices(e.get()); rc < 0)
        throw std::runtime_error(
            fmt::format("Failed to enumerate block devices: {}", std::strerror(-rc)));

    std::vector<BlockDevice> out;
    udev_list_entry* entry = nullptr;
    udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(e.get())) {
        UdevPtr<udev_device> d(
            udev_device_new_from_syspath(u.get(), udev_list_entry_get_name(entry)));
        if (!d) continue;  // vanished between the scan and now
        const std::string_view name = or_empty(udev_device_get_sysname(d.get()));
        if (is_memory_device(name)) continue;
        if (or_empty(udev_device_get_sysattr_value(d.get(), "size")) == "0") continue;
        BlockDevice bd;
        bd.name = std::string(name);
        bd.dev = udev_device_get_devnum(d.get());
        bd.devnode = std::string(or_empty(udev_device_get_devnode(d.get())));
        if (name.starts_with("loop")) {
            // sysfs ends the value with a newline; libudev strips it.
            bd.backing_file =
                std::string(or_empty(udev_device_get_sysattr_value(d.get(), "loop/backing_file")));
            if (bd.backing_file.empty()) continue;
        }
        out.push_back(std::move(bd));
    }
    std::sort(out.begin(), out.end(),
              [](const BlockDevice& a, const BlockDevice& b) { return a.name < b.name; });
    return out;
}

dev_t resolve_block_device(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISBLK(st.st_mode)) return st.st_rdev;

    std::unique_ptr<libmnt_table, MntUnref> table(mnt_new_table());
    if (!table) throw std::runtime_error("Failed to resolve '" + path + "': out of memory");
    if (const int rc = mnt_table_parse_mtab(table.get(), nullptr); rc != 0)
        throw std::runtime_error(
            fmt::format("Failed to resolve '{}': cannot read the mount table: {}", path,
                        std::strerror(rc < 0 ? -rc : EINVAL)));
    // Without a cache libmount compares strings only, so a hung mount is never touched.
    // Lexical clean-up only ("/mnt/a/" -> "/mnt/a"), for the same reason.
    std::string target = std::filesystem::path(path).lexically_normal().string();
    if (target.size() > 1 && target.ends_with('/')) target.pop_back();
    libmnt_fs* fs = mnt_table_find_target(table.get(), target.c_str(), MNT_ITER_BACKWARD);
    if (!fs)
        throw std::runtime_error("Failed to resolve '" + path +
                                 "': neither a block device nor a mount point");
    const char* source = mnt_fs_get_srcpath(fs);
    if (source && ::stat(source, &st) == 0 && S_ISBLK(st.st_mode)) return st.st_rdev;
    throw std::runtime_error(fmt::format(
        "Failed to resolve '{}': it is a {} mount of '{}', not backed by a block device", path,
        or_empty(mnt_fs_get_fstype(fs)), or_empty(mnt_fs_get_source(fs))));
}

dev_t whole_disk(dev_t dev) {
    auto u = new_udev();
    UdevPtr<udev_device> d(udev_device_new_from_devnum(u.get(), 'b', dev));
    if (!d)
        throw std::runtime_error("Failed to find block device " + format_dev(dev) + " in sysfs");
    if (or_empty(udev_device_get_devtype(d.get())) != "partition") return dev;
    // The parent is owned by the child: no unref.
    udev_device* parent = udev_device_get_parent_with_subsystem_devtype(d.get(), "block", "disk");
    if (!parent)
        throw std::runtime_error("Failed to find the disk of partition " + format_dev(dev));
    return udev_device_get_devnum(parent);
}

}  // namespace iohealth
