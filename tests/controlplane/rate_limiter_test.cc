#include "controlplane/auth/rate_limiter.h"

#include <gtest/gtest.h>

namespace berth::controlplane {
namespace {

TEST(RateLimiterTest, AllowsBurstThenAsksToRetryAfterRefillTime) {
  FakeClock clock;
  RateLimiter limiter(clock, RateLimit{2, 4});
  for (int i = 0; i < 4; ++i) EXPECT_EQ(limiter.acquire("k"), 0) << i;
  EXPECT_EQ(limiter.acquire("k"), 1);
  clock.advance(std::chrono::milliseconds(500));  // one token at 2/s
  EXPECT_EQ(limiter.acquire("k"), 0);
  EXPECT_EQ(limiter.acquire("k"), 1);
}

TEST(RateLimiterTest, RetryAfterReflectsSlowRates) {
  FakeClock clock;
  RateLimiter limiter(clock, RateLimit{0.2, 1});
  EXPECT_EQ(limiter.acquire("k"), 0);
  EXPECT_EQ(limiter.acquire("k"), 5);
  clock.advance(std::chrono::seconds(3));
  EXPECT_EQ(limiter.acquire("k"), 2);
}

TEST(RateLimiterTest, KeysAreIndependentAndRefillIsCapped) {
  FakeClock clock;
  RateLimiter limiter(clock, RateLimit{1, 2});
  EXPECT_EQ(limiter.acquire("a"), 0);
  EXPECT_EQ(limiter.acquire("a"), 0);
  EXPECT_NE(limiter.acquire("a"), 0);
  EXPECT_EQ(limiter.acquire("b"), 0);
  clock.advance(std::chrono::hours(1));
  EXPECT_EQ(limiter.acquire("a"), 0);
  EXPECT_EQ(limiter.acquire("a"), 0);
  EXPECT_NE(limiter.acquire("a"), 0);
}

TEST(RateLimiterTest, WouldAllowDoesNotConsume) {
  FakeClock clock;
  RateLimiter limiter(clock, RateLimit{1, 1});
  EXPECT_TRUE(limiter.wouldAllow("k"));
  EXPECT_TRUE(limiter.wouldAllow("k"));
  EXPECT_EQ(limiter.acquire("k"), 0);
  EXPECT_FALSE(limiter.wouldAllow("k"));
}

TEST(RateLimiterTest, ZeroRateDisables) {
  FakeClock clock;
  RateLimiter limiter(clock, RateLimit{0, 0});
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(limiter.acquire("k"), 0);
}

TEST(RateLimiterTest, MemoryIsBoundedByPruningFullBuckets) {
  FakeClock clock;
  RateLimiter limiter(clock, RateLimit{1, 1}, /*max_keys=*/10);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(limiter.acquire("k" + std::to_string(i)), 0);
  clock.advance(std::chrono::seconds(5));
  // Every old bucket has refilled: they are dropped, and the new key is admitted fresh.
  EXPECT_EQ(limiter.acquire("new"), 0);
  EXPECT_EQ(limiter.acquire("k0"), 0);
}

}  // namespace
}  // namespace berth::controlplane
