// iohealthctl's text rendering: human units and the terminal histogram.
#include <gtest/gtest.h>

#include "ctl/client.h"
#include "ctl/render.h"

namespace iohealth::ctl {
namespace {

TEST(HumanUsec, PicksTheUnitThatReadsBest) {
    EXPECT_EQ(human_usec(0), "0");
    EXPECT_EQ(human_usec(12), "12us");
    EXPECT_EQ(human_usec(1500), "1.5ms");
    EXPECT_EQ(human_usec(1024), "1ms");
    EXPECT_EQ(human_usec(2'250'000), "2.25s");
    EXPECT_EQ(human_usec(250'000'000), "4m10s");
    EXPECT_EQ(human_usec(7'500'000'000), "2h05m");
}

TEST(SlotLabel, Log2RangesInHumanUnits) {
    EXPECT_EQ(slot_label(0, 32), "0-2us");
    EXPECT_EQ(slot_label(1, 32), "2us-4us");
    EXPECT_EQ(slot_label(9, 32), "512us-1ms");
    EXPECT_EQ(slot_label(10, 32), "1ms-2ms");
    EXPECT_EQ(slot_label(20, 32), "1s-2.1s");
    EXPECT_EQ(slot_label(31, 32), ">=36m");
}

TEST(HistogramBars, FromFirstToLastNonEmptySlotScaledToThePeak) {
    std::vector<std::uint64_t> slots(32, 0);
    EXPECT_EQ(histogram_bars(slots), std::vector<std::string>{"(no completions)"});
    slots[5] = 100;
    slots[7] = 1;  // a single completion still shows one mark
    const auto lines = histogram_bars(slots, 10);
    ASSERT_EQ(lines.size(), 3u);
    // Labels right-aligned to the widest one.
    EXPECT_EQ(lines[0], "  32us-64us |##########| 100");
    EXPECT_EQ(lines[1], " 64us-128us |          | 0");
    EXPECT_EQ(lines[2], "128us-256us |#         | 1");
}

TEST(SnakeCase, PropertyNamesAsJsonKeys) {
    EXPECT_EQ(snake_case("LatencyP99USec"), "latency_p99_usec");
    EXPECT_EQ(snake_case("FenceByUSec"), "fence_by_usec");
    EXPECT_EQ(snake_case("InFlight"), "in_flight");
    EXPECT_EQ(snake_case("MaintenanceUntilUSec"), "maintenance_until_usec");
    EXPECT_EQ(snake_case("Name"), "name");
}

}  // namespace
}  // namespace iohealth::ctl
