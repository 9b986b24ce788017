#include "core/histogram.h"

#include <bit>
#include <cmath>

namespace iohealth {

int LatencyHistogram::slot_for(Duration latency) {
    const auto us = latency.count();
    if (us < 2) return 0;
    const int slot = std::bit_width(static_cast<std::uint64_t>(us)) - 1;
    return slot < kSlots ? slot : kSlots - 1;
}

Duration LatencyHistogram::slot_upper_bound(int slot) {
    return Duration{std::int64_t{1} << (slot + 1)};
}

void LatencyHistogram::add(Duration latency, std::uint64_t n) {
    slots_[slot_for(latency)] += n;
}

LatencyHistogram& LatencyHistogram::operator+=(const LatencyHistogram& other) {
    for (int i = 0; i < kSlots; ++i) slots_[i] += other.slots_[i];
    return *this;
}

std::uint64_t LatencyHistogram::count() const {
    std::uint64_t n = 0;
    for (auto v : slots_) n += v;
    return n;
}

Duration LatencyHistogram::percentile(double q) const {
    const auto total = count();
    if (total == 0) return Duration{0};
    const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total)));
    std::uint64_t seen = 0;
    for (int i = 0; i < kSlots; ++i) {
        seen += slots_[i];
        if (seen >= rank && slots_[i] > 0) return slot_upper_bound(i);
    }
    return slot_upper_bound(kSlots - 1);
}

}  // namespace iohealth
