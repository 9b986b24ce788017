#include "core/evidence.h"

#include <algorithm>

namespace iohealth {

void EvidenceWindow::push(Sample s) {
    ticks_.push_back(std::move(s));
    while (ticks_.size() > capacity_) ticks_.pop_front();
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
