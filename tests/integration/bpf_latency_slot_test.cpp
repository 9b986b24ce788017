// The BPF side's divide-free slot computation (bpf/latency_slot.h) must put every latency in
// the same slot as userspace's LatencyHistogram, or histograms merged from both would lie.
#include <linux/types.h>
// clang-format off: the BPF headers need the __u* types first.
#include "latency_slot.h"
// clang-format on

#include <gtest/gtest.h>

#include <cstdint>
#include <random>

#include "core/histogram.h"

namespace iohealth {
namespace {

int userspace_slot(std::uint64_t ns) {
    return LatencyHistogram::slot_for(Duration{static_cast<std::int64_t>(ns / 1000)});
}

TEST(BpfLatencySlot, MatchesLatencyHistogramAtEverySlotBoundary) {
    for (std::uint64_t ns : {0ULL, 1ULL, 999ULL, 1000ULL, 1999ULL, 2000ULL, 2001ULL})
        EXPECT_EQ(static_cast<int>(ioh_latency_slot(ns)), userspace_slot(ns)) << ns << " ns";
    for (int i = 0; i < 40; ++i) {
        const std::uint64_t edge = 1000ULL << i;  // first ns of slot i (when i < 32)
        for (std::uint64_t ns : {edge - 1, edge, edge + 1, 2 * edge - 1})
            EXPECT_EQ(static_cast<int>(ioh_latency_slot(ns)), userspace_slot(ns)) << ns << " ns";
    }
    EXPECT_EQ(ioh_latency_slot(UINT64_MAX), static_cast<__u32>(LatencyHistogram::kSlots - 1));
}

TEST(BpfLatencySlot, MatchesLatencyHistogramOnRandomLatencies) {
    std::mt19937_64 rng(42);  // fixed seed: a failure is reproducible
    for (int i = 0; i < 200000; ++i) {
        const std::uint64_t ns = rng() >> (rng() % 64);
        ASSERT_EQ(static_cast<int>(ioh_latency_slot(ns)), userspace_slot(ns)) << ns << " ns";
    }
}

}  // namespace
}  // namespace iohealth
