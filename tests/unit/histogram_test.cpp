#include "core/histogram.h"

#include <gtest/gtest.h>

namespace iohealth {
namespace {

TEST(Histogram, SlotsAreLog2MicrosecondsAndReachMinutes) {
    EXPECT_EQ(LatencyHistogram::slot_for(Duration{0}), 0);
    EXPECT_EQ(LatencyHistogram::slot_for(Duration{1}), 0);
    EXPECT_EQ(LatencyHistogram::slot_for(Duration{2}), 1);
    EXPECT_EQ(LatencyHistogram::slot_for(Duration{1023}), 9);
    EXPECT_EQ(LatencyHistogram::slot_for(Duration{1024}), 10);
    // Ten minutes has a slot of its own, below the last one.
    EXPECT_LT(LatencyHistogram::slot_for(std::chrono::minutes(10)), LatencyHistogram::kSlots - 1);
}

TEST(Histogram, PercentilesAreUpperBoundsOfTheirSlot) {
    LatencyHistogram h;
    h.add(std::chrono::milliseconds(1), 99);
    h.add(std::chrono::seconds(3), 1);
    EXPECT_EQ(h.count(), 100u);
    EXPECT_EQ(h.percentile(0.5), Duration{1024});
    EXPECT_EQ(h.percentile(0.99), Duration{1024});
    EXPECT_EQ(h.max(), Duration{1 << 22});
    EXPECT_EQ(LatencyHistogram{}.percentile(0.99), Duration{0});
}

}  // namespace
}  // namespace iohealth
