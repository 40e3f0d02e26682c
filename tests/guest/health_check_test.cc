#include "guest/health_check.h"

#include <gtest/gtest.h>

namespace berth::guest {
namespace {

// Decoding checks from run_app is tested with the messages (tests/common/guest_messages_test.cc).
HealthCheck httpCheck() {
  HealthCheck check;
  check.type = "http";
  check.port = 8080;
  check.path = "/healthz";
  check.interval_ms = 1000;
  check.timeout_ms = 500;
  check.grace_ms = 3000;
  check.retries = 2;
  return check;
}

TEST(HealthTrackerTest, FailuresInsideTheGracePeriodDoNotCount) {
  HealthTracker tracker(httpCheck(), 1000);
  EXPECT_EQ(tracker.state(), Health::kStarting);
  EXPECT_EQ(tracker.nextProbeMs(), 1100u);  // probing soon, and faster than the interval, while starting
  EXPECT_FALSE(tracker.record(false, "connection refused", 1100));
  EXPECT_EQ(tracker.nextProbeMs(), 1300u);
  EXPECT_FALSE(tracker.record(false, "connection refused", 1300));
  EXPECT_EQ(tracker.nextProbeMs(), 1700u);
  EXPECT_FALSE(tracker.record(false, "connection refused", 1700));
  EXPECT_EQ(tracker.nextProbeMs(), 2200u);  // capped at 500 ms
  for (std::uint64_t t = 2200; t < 4000; t += 500) {
    EXPECT_FALSE(tracker.record(false, "connection refused", t));
    EXPECT_EQ(tracker.state(), Health::kStarting);
  }
  EXPECT_EQ(tracker.detail(), "connection refused");
}

TEST(HealthTrackerTest, ASuccessEndsTheGracePeriodEarly) {
  HealthTracker tracker(httpCheck(), 1000);
  EXPECT_TRUE(tracker.record(true, "", 1500));
  EXPECT_EQ(tracker.state(), Health::kHealthy);
  EXPECT_TRUE(tracker.detail().empty());
  EXPECT_EQ(tracker.nextProbeMs(), 2500u);  // now at the configured interval
}

TEST(HealthTrackerTest, RetriesFailuresInARowAfterGraceMakeItUnhealthy) {
  HealthTracker tracker(httpCheck(), 0);
  EXPECT_FALSE(tracker.record(false, "HTTP 500", 3000));
  EXPECT_EQ(tracker.state(), Health::kStarting);
  EXPECT_TRUE(tracker.record(false, "HTTP 500", 3500));
  EXPECT_EQ(tracker.state(), Health::kUnhealthy);
  EXPECT_EQ(tracker.detail(), "HTTP 500");
  EXPECT_TRUE(tracker.record(true, "", 4500));
  EXPECT_EQ(tracker.state(), Health::kHealthy);
}

TEST(HealthTrackerTest, ASuccessResetsTheFailureCount) {
  HealthTracker tracker(httpCheck(), 0);
  tracker.record(true, "", 500);
  EXPECT_FALSE(tracker.record(false, "timeout", 4000));
  EXPECT_FALSE(tracker.record(true, "", 5000));
  EXPECT_FALSE(tracker.record(false, "timeout", 6000));
  EXPECT_EQ(tracker.state(), Health::kHealthy);
  EXPECT_TRUE(tracker.record(false, "timeout", 7000));
  EXPECT_EQ(tracker.state(), Health::kUnhealthy);
}

TEST(HealthTrackerTest, AnExitMakesAHealthyInstanceStartingWithoutANewGracePeriod) {
  HealthTracker tracker(httpCheck(), 0);
  tracker.record(true, "", 500);
  EXPECT_TRUE(tracker.processExited(10'000));
  EXPECT_EQ(tracker.state(), Health::kStarting);
  EXPECT_EQ(tracker.nextProbeMs(), 10'100u);
  EXPECT_FALSE(tracker.processExited(10'100));  // already starting
  EXPECT_FALSE(tracker.record(false, "Connection refused", 10'500));
  EXPECT_TRUE(tracker.record(false, "Connection refused", 11'000));  // grace is long over
  EXPECT_EQ(tracker.state(), Health::kUnhealthy);
}

}  // namespace
}  // namespace berth::guest
