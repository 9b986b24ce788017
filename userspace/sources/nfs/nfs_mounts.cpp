#include "sources/nfs/nfs_mounts.h"

#include <libmount.h>
#include <sys/sysmacros.h>

#include <fmt/format.h>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>

namespace iohealth {
namespace {

struct TableUnref {
    void operator()(libmnt_table* t) const { mnt_unref_table(t); }
};

const char* or_empty(const char* s) {
    return s != nullptr ? s : "";
}

std::optional<int> to_int(std::string_view s) {
    int v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || v < 0) return std::nullopt;
    return v;
}

// "/mnt/a/" -> "/mnt/a": lexical only, never a stat() of a mount that may hang.
std::string normal_target(const std::string& target) {
    std::string t = std::filesystem::path(target).lexically_normal().string();
    if (t.size() > 1 && t.ends_with('/')) t.pop_back();
    return t;
}

std::unique_ptr<libmnt_table, TableUnref> read_table(const std::string& mountinfo) {
    std::unique_ptr<libmnt_table, TableUnref> table(mnt_new_table());
    if (!table) throw std::runtime_error("Failed to read " + mountinfo + ": out of memory");
    // Without a cache libmount compares strings only: no mount is ever stat()ed.
    if (const int rc = mnt_table_parse_file(table.get(), mountinfo.c_str()); rc != 0)
        throw std::runtime_error(fmt::format("Failed to read the mount table {}: {}", mountinfo,
                                             std::strerror(rc < 0 ? -rc : EINVAL)));
    return table;
}

}  // namespace

Duration NfsMountOptions::first_retry() const {
    return std::chrono::milliseconds(static_cast<std::int64_t>(effective_timeo_ds()) * 100);
}

Duration NfsMountOptions::major_timeout() const {
    const std::int64_t timeo = effective_timeo_ds();
    const std::int64_t tries = effective_retrans() + 1;
    std::int64_t total_ds = timeo * tries;
    if (udp()) {
        total_ds = 0;
        for (std::int64_t i = 0, step = timeo; i < tries;
             ++i, step = std::min<std::int64_t>(step * 2, 600))
            total_ds += step;
    }
    return std::chrono::milliseconds(total_ds * 100);
}

NfsMountOptions parse_nfs_options(std::string_view options) {
    NfsMountOptions o;
    std::size_t pos = 0;
    while (pos <= options.size()) {
        const auto comma = options.find(',', pos);
        const auto opt = options.substr(pos, comma == options.npos ? options.npos : comma - pos);
        pos = comma == options.npos ? options.size() + 1 : comma + 1;
        const auto eq = opt.find('=');
        const auto key = opt.substr(0, eq);
        const auto value = eq == opt.npos ? std::string_view{} : opt.substr(eq + 1);
        if (key == "soft" || key == "softerr")
            o.soft = true;
        else if (key == "hard")
            o.soft = false;
        else if (key == "timeo")
            o.timeo_ds = to_int(value);
        else if (key == "retrans")
            o.retrans = to_int(value);
        else if (key == "proto")
            o.proto = value;
        else if (key == "addr")
            o.server_addr = value;
        else if (key == "vers")
            o.vers = value;
    }
    return o;
}

bool is_nfs_fstype(std::string_view fstype) {
    return fstype == "nfs" || fstype == "nfs4";
}

std::vector<NfsMount> list_nfs_mounts(const std::string& mountinfo) {
    const auto table = read_table(mountinfo);
    std::vector<NfsMount> out;
    libmnt_iter* it = mnt_new_iter(MNT_ITER_FORWARD);
    libmnt_fs* fs = nullptr;
    while (mnt_table_next_fs(table.get(), it, &fs) == 0) {
        if (!is_nfs_fstype(or_empty(mnt_fs_get_fstype(fs)))) continue;
        NfsMount m;
        m.target = or_empty(mnt_fs_get_target(fs));
        m.source = or_empty(mnt_fs_get_source(fs));
        m.fstype = or_empty(mnt_fs_get_fstype(fs));
        m.dev = mnt_fs_get_devno(fs);
        m.options = parse_nfs_options(or_empty(mnt_fs_get_fs_options(fs)));
        out.push_back(std::move(m));
    }
    mnt_free_iter(it);
    return out;
}

std::optional<std::string> fstype_at(const std::string& target, const std::string& mountinfo) {
    const auto table = read_table(mountinfo);
    libmnt_fs* fs =
        mnt_table_find_target(table.get(), normal_target(target).c_str(), MNT_ITER_BACKWARD);
    if (fs == nullptr) return std::nullopt;
    return std::string(or_empty(mnt_fs_get_fstype(fs)));
}

std::optional<NfsMount> find_nfs_mount(const std::vector<NfsMount>& mounts,
                                       const std::string& target) {
    const std::string t = normal_target(target);
    for (auto it = mounts.rbegin(); it != mounts.rend(); ++it)
        if (it->target == t) return *it;
    return std::nullopt;
}

NfsTimeoutCheck check_nfs_timeouts(const NfsMount& mount, Duration dead_after) {
    const auto& o = mount.options;
    NfsTimeoutCheck c;
    const std::string rule = fmt::format("timeo={} retrans={}{}", o.effective_timeo_ds(),
                                         o.effective_retrans(), o.udp() ? " over UDP" : "");
    c.summary = fmt::format(
        "NFS mount {} ({}, {}): the client retries a request after {} and reports the server "
        "not responding after {}; this path is declared DEAD after {} without progress",
        mount.target, o.soft ? "soft" : "hard", rule, format_duration(o.first_retry()),
        format_duration(o.major_timeout()), format_duration(dead_after));
    if (o.soft)
        c.warnings.push_back(fmt::format(
            "NFS mount {} is soft ({}): the client fails I/O with EIO after {}, and guests see "
            "those errors; mount it hard so the client waits and iohealthd alone decides",
            mount.target, rule, format_duration(o.major_timeout())));
    if (o.first_retry() >= dead_after)
        c.warnings.push_back(fmt::format(
            "NFS mount {} ({}): the client sends a lost request again only after {}, not before "
            "this path's dead_after {}: iohealthd fences before the client has retried once "
            "(lower timeo, e.g. timeo=100 retrans=3 as oVirt does, or raise io_timeout)",
            mount.target, rule, format_duration(o.first_retry()), format_duration(dead_after)));
    return c;
}

}  // namespace iohealth
