#pragma once
// The oldest outstanding request of a request-based disk, from the age ring of the default
// probes (bpf/iohealth.h struct ioh_age_ring): per span of start times, how many requests
// started and finished. Pure: a reading (summed over CPUs) and its time in, the oldest out.
//
// The ring is 32 slots of 1.07 s. A slot half a ring old is frozen (its completions count as
// "late" in the kernel); what it still holds then is carried here, with its span, for as
// long as it stays outstanding, and late completions retire the youngest carried first. The
// age is a lower bound: the end of the request's span, so it is never reported older than it
// is, nor more than 1.07 s younger. A reading must come while a frozen slot is not yet reused
// (within 17 s): the daemon reads every tick, 10 s at most.
#include <array>
#include <cstdint>
#include <deque>
#include <optional>

#include "core/evidence.h"

namespace iohealth {

struct AgeRingReading {
    static constexpr int kShift = 30;  // IOH_AGE_SHIFT
    static constexpr int kSlots = 32;  // IOH_AGE_SLOTS
    static constexpr int kLate = 16;   // IOH_AGE_LATE: a slot this old is frozen
    static constexpr int kOps = 2;     // IOH_AGE_OPS: reads, everything else

    std::array<std::array<std::uint64_t, kSlots>, kOps> started{};
    std::array<std::array<std::uint64_t, kSlots>, kOps> finished{};
    std::array<std::uint64_t, kOps> finished_late{};
};

struct OldestRequest {
    std::uint64_t started_by_ns = 0;  // it started before this (CLOCK_MONOTONIC ns)
    IoDirection direction = IoDirection::kRead;
};

class RequestAges {
  public:
    // The oldest request outstanding at `now_ns`, or none.
    std::optional<OldestRequest> update(const AgeRingReading& r, std::uint64_t now_ns);
    // The kernel says nothing is in flight: what the ring still holds from before the
    // current and the previous slot was lost on the way (a missed completion), not stuck.
    void forget_before(const AgeRingReading& r, std::uint64_t now_ns);

  private:
    struct Carried {
        std::uint64_t span = 0;  // start time >> kShift
        int op = 0;
        std::uint64_t count = 0;
    };
    // Per slot: started - finished of the spans already carried (or forgotten).
    std::array<std::array<std::uint64_t, AgeRingReading::kSlots>, AgeRingReading::kOps> base_{};
    // Per slot: the span last frozen into `carried_`, + 1 (0: none yet).
    std::array<std::uint64_t, AgeRingReading::kSlots> frozen_{};
    std::array<std::uint64_t, AgeRingReading::kOps> late_seen_{};
    std::deque<Carried> carried_;  // oldest first
};

}  // namespace iohealth
