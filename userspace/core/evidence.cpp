#include "core/evidence.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace iohealth {

void EvidenceWindow::push(Sample s) {
    ticks_.push_back(std::move(s));
    while (ticks_.size() > capacity_) ticks_.pop_front();
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
