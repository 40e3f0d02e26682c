// The node's report: built from every VM's snapshot, posted when one changes or when poked (the
// heartbeat), and not again for a snapshot that did not change.

#include "agent/node_reporter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "fakes.h"

namespace berth::agent {
namespace {

using namespace std::chrono_literals;

VmSnapshot snapshot(const std::string& vm, const std::string& state) {
  return VmSnapshot{{"p", vm, state, ""}, {{"p", "web", 3, "running", "", 0, vm}}};
}

TEST(NodeReporter, BuildsTheReportFromEveryVmsSnapshot) {
  FakeApiClient api;
  NodeReporter reporter("node-1", api);
  reporter.publish({"p", "b"}, snapshot("b", "running"));
  reporter.publish({"p", "a"}, snapshot("a", "starting"));
  const model::NodeReport report = reporter.build();
  ASSERT_EQ(report.vms.size(), 2u);
  EXPECT_EQ(report.vms[0], (model::VmObservation{"p", "a", "starting", ""}));
  EXPECT_EQ(report.vms[1].name, "b");
  ASSERT_EQ(report.apps.size(), 2u);
  EXPECT_EQ(report.apps[0].vm, "a");
  reporter.remove({"p", "a"});
  EXPECT_EQ(reporter.build().vms.size(), 1u);
}

TEST(NodeReporter, PostsOnAChangeAndOnEveryPokeButNotForTheSameSnapshot) {
  FakeApiClient api;
  NodeReporter reporter("node-1", api);
  reporter.start();
  reporter.publish({"p", "a"}, snapshot("a", "starting"));
  ASSERT_TRUE(api.waitForPosts(1, 5s));
  EXPECT_EQ(api.posts()[0].first, "/v1/nodes/node-1/status");
  EXPECT_EQ(api.posts()[0].second, model::nodeReportToJson(reporter.build()));

  reporter.publish({"p", "a"}, snapshot("a", "starting"));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(api.posts().size(), 1u);

  reporter.poke();
  ASSERT_TRUE(api.waitForPosts(2, 5s));
  reporter.publish({"p", "a"}, snapshot("a", "running"));
  ASSERT_TRUE(api.waitForPosts(3, 5s));
  EXPECT_EQ(api.posts().back().second["vms"][0]["state"], "running");
  reporter.remove({"p", "a"});
  ASSERT_TRUE(api.waitForPosts(4, 5s));
  EXPECT_TRUE(api.posts().back().second["vms"].empty());
  reporter.stop();
}

}  // namespace
}  // namespace berth::agent
