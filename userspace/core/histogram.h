#pragma once
// log2 latency histogram in microseconds, the same slot layout as the BPF side
// (bpf/iohealth.h): slot 0 holds [0, 2) us, slot i holds [2^i, 2^(i+1)) us, the last slot
// is open-ended. 32 slots reach 2^31 us (about 36 min), so a request that took minutes still
// lands in its own slot instead of an overflow bucket.
#include <array>
#include <cstdint>

#include "core/time.h"

namespace iohealth {

class LatencyHistogram {
  public:
    static constexpr int kSlots = 32;

    static int slot_for(Duration latency);
    // Upper bound of a slot: a percentile read from the histogram never understates latency.
    static Duration slot_upper_bound(int slot);

    void add(Duration latency, std::uint64_t n = 1);
    void add_to_slot(int slot, std::uint64_t n) { slots_[slot] += n; }
    LatencyHistogram& operator+=(const LatencyHistogram& other);

    std::uint64_t count() const;
    bool empty() const { return count() == 0; }
    // Upper bound of the slot that holds quantile q (0..1); zero when empty.
    Duration percentile(double q) const;
    Duration max() const { return percentile(1.0); }

    const std::array<std::uint64_t, kSlots>& slots() const { return slots_; }
    std::array<std::uint64_t, kSlots>& slots() { return slots_; }

    bool operator==(const LatencyHistogram&) const = default;

  private:
    std::array<std::uint64_t, kSlots> slots_{};
};

}  // namespace iohealth
