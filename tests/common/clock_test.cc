#include "common/clock.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(ClockTest, FakeClockAdvancesBothTimes) {
  FakeClock clock(1'000);
  auto t0 = clock.now();
  clock.advance(std::chrono::milliseconds(1500));
  EXPECT_EQ(clock.now() - t0, std::chrono::milliseconds(1500));
  EXPECT_EQ(clock.wallMillis(), 2'500 + 3'600'000);
}

TEST(ClockTest, FormatsRfc3339) {
  EXPECT_EQ(formatTimestamp(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(formatTimestamp(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(formatTimestamp(1'709'251'199'999), "2024-02-29T23:59:59.999Z");  // leap day, last millisecond
  EXPECT_EQ(formatTimestamp(253'402'300'799'000), "9999-12-31T23:59:59.000Z");
}

}  // namespace
}  // namespace berth
