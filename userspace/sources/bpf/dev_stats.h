#pragma once
// The per-device counters both probe families keep (struct ioh_dev_stats in bpf/iohealth.h,
// block devices and NFS mounts alike), read from a per-CPU map and summed over CPUs.
#include <array>
#include <cstdint>

#include "core/histogram.h"
#include "core/time.h"

namespace iohealth {

// `t` on the probes' clock (bpf_ktime_get_ns): the daemon's time is CLOCK_MONOTONIC too.
constexpr std::uint64_t ktime_ns(TimePoint t) {
    return to_usec(t) < 0 ? 0 : std::uint64_t(to_usec(t)) * 1000;
}

struct DevStatsTotals {
    std::uint64_t issued = 0;
    std::uint64_t completed = 0;
    std::uint64_t bytes = 0;
    std::array<std::uint64_t, 3> errors{};      // io, timeout, other (bpf/iohealth.h enum ioh_err)
    std::uint64_t last_complete_ns = 0;         // CLOCK_MONOTONIC, max over CPUs; 0: none yet
    std::array<LatencyHistogram, 3> latency{};  // by operation (bpf/iohealth.h enum ioh_op)
};

// The sum of `key`'s per-CPU entries in a map of struct ioh_dev_stats; false when the key is
// not in the map.
bool read_dev_stats(int map_fd, std::uint32_t key, int ncpus, DevStatsTotals& out);

// The sum of `key`'s per-CPU __u64 entries (the diagnostic counters); 0 when it is absent.
std::uint64_t read_per_cpu_sum(int map_fd, std::uint32_t key, int ncpus);

}  // namespace iohealth
