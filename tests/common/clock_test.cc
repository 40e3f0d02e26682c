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
}

}  // namespace
}  // namespace berth
