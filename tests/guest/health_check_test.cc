#include "guest/health_check.h"

#include <gtest/gtest.h>

namespace berth::guest {
namespace {

using nlohmann::json;

HealthCheck httpCheck() {
  auto check = parseHealthCheck(json{{"type", "http"}, {"port", 8080}, {"path", "/healthz"}, {"interval_ms", 1000},
                                     {"timeout_ms", 500}, {"grace_ms", 3000}, {"retries", 2}});
  EXPECT_TRUE(check.isOk()) << check.status().toString();
  return *check;
}

TEST(HealthCheckTest, ParsesEveryField) {
  HealthCheck check = httpCheck();
  EXPECT_EQ(check.type, "http");
  EXPECT_EQ(check.port, 8080);
  EXPECT_EQ(check.path, "/healthz");
  EXPECT_EQ(check.interval_ms, 1000u);
  EXPECT_EQ(check.timeout_ms, 500u);
  EXPECT_EQ(check.grace_ms, 3000u);
  EXPECT_EQ(check.retries, 2);
  auto exec = parseHealthCheck(json{{"type", "exec"}, {"command", {"test", "-f", "/ready"}}});
  ASSERT_TRUE(exec.isOk());
  EXPECT_EQ(exec->argv, (std::vector<std::string>{"test", "-f", "/ready"}));
}

TEST(HealthCheckTest, RefusesMalformedChecksNamingTheField) {
  EXPECT_NE(parseHealthCheck(json{{"type", "udp"}}).status().message().find("health.type"), std::string::npos);
  EXPECT_NE(parseHealthCheck(json{{"type", "tcp"}}).status().message().find("port"), std::string::npos);
  EXPECT_NE(parseHealthCheck(json{{"type", "tcp"}, {"port", 70000}}).status().message().find("port"), std::string::npos);
  EXPECT_NE(parseHealthCheck(json{{"type", "exec"}, {"command", json::array()}}).status().message().find("command"),
            std::string::npos);
  EXPECT_NE(parseHealthCheck(json{{"type", "http"}, {"port", 80}, {"path", "/a b"}}).status().message().find("path"),
            std::string::npos);
  EXPECT_NE(parseHealthCheck(json{{"type", "http"}, {"port", 80}, {"retries", 0}}).status().message().find("retries"),
            std::string::npos);
  EXPECT_NE(parseHealthCheck(json{{"type", "http"}, {"port", 80}, {"interval_ms", "1s"}}).status().message().find(
                "interval_ms"),
            std::string::npos);
  EXPECT_FALSE(parseHealthCheck(json::array()).isOk());
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
