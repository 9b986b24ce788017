#include "core/evidence.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/enum_table.h"

namespace iohealth {

void EvidenceWindow::push(Sample s) {
    ticks_.push_back(std::move(s));
    while (ticks_.size() > capacity_) ticks_.pop_front();
}

namespace {
constexpr EnumTable<DeviceFate, 4> kDeviceFates{{
    {DeviceFate::kPresent, "present"},
    {DeviceFate::kLost, "lost"},
    {DeviceFate::kReplaced, "replaced"},
    {DeviceFate::kBackingFileDeleted, "backing-file-deleted"},
}};
}  // namespace

std::string_view to_string(DeviceFate f) {
    return enum_name(kDeviceFates, f);
}

std::optional<DeviceFate> device_fate_from_string(std::string_view s) {
    return enum_value(kDeviceFates, s);
}

std::string describe_device(DeviceFate fate, std::string_view detail) {
    switch (fate) {
        case DeviceFate::kPresent:
            return {};
        case DeviceFate::kLost:
            return fmt::format("device lost: {}", detail);
        case DeviceFate::kReplaced:
            return fmt::format("device replaced: {}", detail);
        case DeviceFate::kBackingFileDeleted:
            return fmt::format("backing file deleted: {}", detail);
    }
    return {};
}

std::string_view to_string(IoDirection d) {
    return d == IoDirection::kRead ? "read" : "write";
}

std::string describe_vm_facts(const StorageFacts& f) {
    std::string out;
    if (f.vm_io_errors > 0)
        out = fmt::format("{} VM I/O error{} (latest {})", f.vm_io_errors,
                          f.vm_io_errors == 1 ? "" : "s", f.vm_io_error);
    if (!f.vms_paused_on_io_error.empty())
        out += fmt::format("{}paused on I/O error: {}", out.empty() ? "" : "; ",
                           fmt::join(f.vms_paused_on_io_error, ", "));
    return out;
}

namespace {
template <typename F>
void for_last(const std::deque<Sample>& ticks, std::size_t n, F&& f) {
    const auto k = std::min(n, ticks.size());
    for (auto it = ticks.end() - static_cast<std::ptrdiff_t>(k); it != ticks.end(); ++it) f(*it);
}
}  // namespace

LatencyHistogram EvidenceWindow::latency_over(std::size_t n) const {
    LatencyHistogram h;
    for_last(ticks_, n, [&](const Sample& s) { h += s.kernel.latency; });
    return h;
}

std::uint64_t EvidenceWindow::completed_over(std::size_t n) const {
    std::uint64_t c = 0;
    for_last(ticks_, n, [&](const Sample& s) { c += s.kernel.completed; });
    return c;
}

std::uint64_t EvidenceWindow::errors_over(std::size_t n) const {
    std::uint64_t c = 0;
    for_last(ticks_, n, [&](const Sample& s) { c += s.kernel.errors.total(); });
    return c;
}

}  // namespace iohealth
