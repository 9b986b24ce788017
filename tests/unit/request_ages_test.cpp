// The age ring read back into the oldest outstanding request (sources/request_ages.h). The
// kernel side is played by a model of bpf/block_rq.bpf.c's counting: issue into the slot of
// the start time, completion into the same slot, or into finished_late once the slot is
// frozen (half a ring old).
#include <gtest/gtest.h>

#include "sources/bpf/request_ages.h"

namespace iohealth {
namespace {

constexpr std::uint64_t kSecond = 1'000'000'000ULL;
constexpr int kShift = AgeRingReading::kShift;
constexpr int kSlots = AgeRingReading::kSlots;
constexpr std::uint64_t kLate = AgeRingReading::kLate;

struct KernelRing {
    AgeRingReading r;
    void issue(std::uint64_t start, int op) { ++r.started[op][(start >> kShift) % kSlots]; }
    void complete(std::uint64_t start, std::uint64_t now, int op) {
        if ((now >> kShift) - (start >> kShift) >= kLate)
            ++r.finished_late[op];
        else
            ++r.finished[op][(start >> kShift) % kSlots];
    }
};

// A load whose requests each take 5 ms, read every `read_every` seconds (the daemon's tick),
// for `seconds` from `from`.
void steady_load(KernelRing& k, RequestAges& ages, std::uint64_t from, int seconds,
                 std::optional<OldestRequest>* last = nullptr, int read_every = 1) {
    for (int s = 0; s < seconds; ++s) {
        const std::uint64_t t = from + static_cast<std::uint64_t>(s) * kSecond;
        for (int i = 0; i < 100; ++i) {
            const std::uint64_t start = t + static_cast<std::uint64_t>(i) * 10'000'000ULL;
            k.issue(start, i % 2);
            k.complete(start, start + 5'000'000ULL, i % 2);
        }
        if (s % read_every != read_every - 1) continue;
        const auto oldest = ages.update(k.r, t + kSecond - 1);
        if (last) *last = oldest;
    }
}

TEST(RequestAges, NothingOutstandingUnderASteadyLoad) {
    KernelRing k;
    RequestAges ages;
    std::optional<OldestRequest> last;
    steady_load(k, ages, 1000 * kSecond, 120, &last);
    EXPECT_FALSE(last);
}

TEST(RequestAges, ALostRequestKeepsItsAgePastTheRingAndIsRetiredWhenItCompletes) {
    KernelRing k;
    RequestAges ages;
    const std::uint64_t t0 = 1000 * kSecond;
    const std::uint64_t lost = t0 + 123;
    k.issue(lost, /*op=*/1);
    std::optional<OldestRequest> last;
    // 120 s: more than three times round the 34 s ring.
    steady_load(k, ages, t0, 120, &last);
    ASSERT_TRUE(last);
    EXPECT_EQ(last->direction, IoDirection::kWrite);
    // A lower bound: the end of its 1.07 s span, never before the request really started.
    EXPECT_GE(last->started_by_ns, lost);
    EXPECT_LT(last->started_by_ns - lost, 1ULL << kShift);
    // It completes (late): nothing is outstanding any more.
    const std::uint64_t now = t0 + 121 * kSecond;
    k.complete(lost, now, 1);
    EXPECT_FALSE(ages.update(k.r, now));
}

// The longest tick (10 s) still reads every frozen slot before it is reused: a lost request
// is carried, not folded into a younger span, and nothing else is left over.
TEST(RequestAges, ReadOnlyEveryTenSecondsTheLostRequestKeepsItsAge) {
    KernelRing k;
    RequestAges ages;
    const std::uint64_t t0 = 1000 * kSecond;
    const std::uint64_t lost = t0 + 123;
    k.issue(lost, /*op=*/0);
    std::optional<OldestRequest> last;
    steady_load(k, ages, t0, 120, &last, /*read_every=*/10);
    ASSERT_TRUE(last);
    EXPECT_EQ(last->direction, IoDirection::kRead);
    EXPECT_GE(last->started_by_ns, lost);
    EXPECT_LT(last->started_by_ns - lost, 1ULL << kShift);
    const std::uint64_t now = t0 + 121 * kSecond;
    k.complete(lost, now, 0);
    EXPECT_FALSE(ages.update(k.r, now));
}

TEST(RequestAges, TheOldestOfTwoIsReported) {
    KernelRing k;
    RequestAges ages;
    const std::uint64_t t0 = 1000 * kSecond;
    k.issue(t0 + 20 * kSecond, 0);
    k.issue(t0 + 1 * kSecond, 1);
    const auto oldest = ages.update(k.r, t0 + 30 * kSecond);
    ASSERT_TRUE(oldest);
    EXPECT_EQ(oldest->direction, IoDirection::kWrite);
    EXPECT_LE(oldest->started_by_ns, t0 + 1 * kSecond + (1ULL << kShift));
}

TEST(RequestAges, WhatTheKernelSaysIsNotInFlightIsForgotten) {
    KernelRing k;
    RequestAges ages;
    const std::uint64_t t0 = 1000 * kSecond;
    k.issue(t0, 0);  // its completion was missed
    ASSERT_TRUE(ages.update(k.r, t0 + 10 * kSecond));
    ages.forget_before(k.r, t0 + 10 * kSecond);
    EXPECT_FALSE(ages.update(k.r, t0 + 10 * kSecond));
    std::optional<OldestRequest> last;
    steady_load(k, ages, t0 + 11 * kSecond, 60, &last);
    EXPECT_FALSE(last);
}

}  // namespace
}  // namespace iohealth
