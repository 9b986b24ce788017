// core/rate_limit.h: a burst per interval, the rest counted.
#include "core/rate_limit.h"

#include <gtest/gtest.h>

namespace iohealth {
namespace {

using namespace std::chrono_literals;

TEST(RateLimit, ABurstPerIntervalThenTheNextOneCountsWhatWasLeftOut) {
    RateLimit limit(3, 60s);
    const TimePoint t0{};
    std::uint64_t left_out = 99;
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(limit.allow(t0 + std::chrono::seconds(i), left_out));
        EXPECT_EQ(left_out, 0u);
    }
    for (int i = 0; i < 5; ++i) EXPECT_FALSE(limit.allow(t0 + 10s, left_out));
    EXPECT_FALSE(limit.allow(t0 + 59s, left_out));
    ASSERT_TRUE(limit.allow(t0 + 60s, left_out));  // a new interval
    EXPECT_EQ(left_out, 6u);
    ASSERT_TRUE(limit.allow(t0 + 61s, left_out));
    EXPECT_EQ(left_out, 0u);
}

}  // namespace
}  // namespace iohealth
