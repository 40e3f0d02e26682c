// The rollout rules of docs/rollouts.md, one by one, against the pure decisions (no guest, no
// proxy): what starts, where, when traffic switches, when the old instance stops, what fails.

#include "agent/rollout.h"

#include <gtest/gtest.h>

#include <chrono>

namespace berth::agent {
namespace {

using namespace std::chrono_literals;
using Kind = RolloutAction::Kind;

Release checked(const std::string& app, int64_t release, std::string spec = "") {
  return Release{app,  release, spec.empty() ? "spec-" + std::to_string(release) : spec,
                 true, 1,       80s};
}
Release unchecked(const std::string& app, int64_t release) {
  return Release{app, release, "spec-" + std::to_string(release), false, 1, 0ms};
}

std::vector<Kind> kinds(const RolloutActions& actions) {
  std::vector<Kind> out;
  for (const auto& a : actions) out.push_back(a.kind);
  return out;
}

const RolloutAction* find(const RolloutActions& actions, Kind kind) {
  for (const auto& a : actions) {
    if (a.kind == kind) return &a;
  }
  return nullptr;
}

class RolloutTest : public ::testing::Test {
 protected:
  // Takes `release` through a successful start, and (checked) a healthy verdict.
  void deploy(const Release& release) {
    RolloutActions actions = rollouts_.release(release);
    ASSERT_NE(find(actions, Kind::kStartInstance), nullptr)
        << ::testing::PrintToString(kinds(actions));
    rollouts_.started(release.app, Status::ok());
    if (release.health_checked)
      rollouts_.health(
          {release.app, release.app + "-" + std::to_string(release.release), "healthy", ""});
    ASSERT_EQ(rollouts_.serving().at(release.app).release, release.release);
  }

  FakeClock clock_;
  std::string log_tail_ = "listening\ncrashed";
  Rollouts rollouts_{"p/vm", clock_,
                     [this](const std::string&, const std::string&) { return log_tail_; }};
};

TEST_F(RolloutTest, WithoutAHealthCheckTheOldInstanceStopsFirst) {
  deploy(unchecked("web", 1));
  RolloutActions actions = rollouts_.release(unchecked("web", 2));
  const RolloutAction* start = find(actions, Kind::kStartInstance);
  ASSERT_NE(start, nullptr);
  EXPECT_TRUE(start->replace);
  EXPECT_EQ(start->instance.id, "web-2");
  EXPECT_EQ(start->instance.slot, 0);
  EXPECT_EQ(rollouts_.reports().at("web").state, "deploying");

  actions = rollouts_.started("web", Status::ok());
  EXPECT_NE(find(actions, Kind::kSwitchTraffic), nullptr);
  EXPECT_NE(find(actions, Kind::kSave), nullptr);
  EXPECT_EQ(rollouts_.serving().at("web").id, "web-2");
  EXPECT_EQ(rollouts_.reports().at("web"), (AppReport{2, "running", "", 0}));
  EXPECT_FALSE(rollouts_.busy());
}

TEST_F(RolloutTest, WithAHealthCheckTheNewInstanceStartsBesideTheServingOneOnTheOtherSlot) {
  deploy(checked("web", 1));
  EXPECT_EQ(rollouts_.serving().at("web").slot, 0);
  RolloutActions actions = rollouts_.release(checked("web", 2));
  const RolloutAction* start = find(actions, Kind::kStartInstance);
  ASSERT_NE(start, nullptr);
  EXPECT_FALSE(start->replace);
  EXPECT_EQ(start->instance.slot, 1);
  EXPECT_EQ(start->instance.health, "starting");
  EXPECT_EQ(rollouts_.reports().at("web"),
            (AppReport{2, "deploying", "waiting for the health check", 0}));

  rollouts_.started("web", Status::ok());
  // Started is not healthy: the old one still takes the traffic.
  EXPECT_EQ(rollouts_.serving().at("web").id, "web-1");
  EXPECT_TRUE(rollouts_.busy());
  EXPECT_EQ(rollouts_.reports().at("web").state, "deploying");
  EXPECT_TRUE(rollouts_.health({"web", "web-2", "starting", ""}).empty());

  actions = rollouts_.health({"web", "web-2", "healthy", ""});
  EXPECT_EQ(kinds(actions), (std::vector<Kind>{Kind::kSwitchTraffic, Kind::kSave, Kind::kReport}));
  EXPECT_EQ(rollouts_.serving().at("web").id, "web-2");
  EXPECT_EQ(rollouts_.serving().at("web").health, "healthy");
  EXPECT_EQ(rollouts_.reports().at("web"), (AppReport{2, "running", "", 0}));
}

TEST_F(RolloutTest, TheReplacedInstanceDrainsUntilItsConnectionsAreDone) {
  deploy(checked("web", 1));
  deploy(checked("web", 2));
  std::size_t open = 2;
  std::vector<std::string> asked;
  auto connections = [&](const std::string& app, const Instance& old) {
    asked.push_back(app + ":" + old.id);
    return open;
  };
  EXPECT_TRUE(rollouts_.drain(connections).empty());
  EXPECT_EQ(asked, std::vector<std::string>{"web:web-1"});
  EXPECT_TRUE(rollouts_.busy());
  open = 0;
  RolloutActions actions = rollouts_.drain(connections);
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].kind, Kind::kStopInstance);
  EXPECT_EQ(actions[0].instance.id, "web-1");
  EXPECT_FALSE(rollouts_.busy());
}

TEST_F(RolloutTest, ADrainEndsAfterThirtySecondsWhateverIsStillOpen) {
  deploy(checked("web", 1));
  deploy(checked("web", 2));
  auto busy_forever = [](const std::string&, const Instance&) { return std::size_t{5}; };
  clock_.advance(kDrainLimit - 1s);
  EXPECT_TRUE(rollouts_.drain(busy_forever).empty());
  clock_.advance(1s);
  RolloutActions actions = rollouts_.drain(busy_forever);
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].instance.id, "web-1");
}

TEST_F(RolloutTest, AnAppWithSeveralPortsStopsFirstEvenWithAHealthCheck) {
  deploy(checked("web", 1));
  Release two_ports = checked("web", 2);
  two_ports.ports = 2;
  const RolloutActions actions = rollouts_.release(two_ports);
  const RolloutAction* start = find(actions, Kind::kStartInstance);
  ASSERT_NE(start, nullptr);
  EXPECT_TRUE(start->replace);
  EXPECT_EQ(start->instance.slot, 0);
  rollouts_.started("web", Status::ok());
  // Stop-first still waits for the check before it reports the release running.
  EXPECT_EQ(rollouts_.serving().at("web").id, "web-2");
  EXPECT_EQ(rollouts_.reports().at("web").state, "deploying");
  rollouts_.health({"web", "web-2", "healthy", ""});
  EXPECT_EQ(rollouts_.reports().at("web").state, "running");
}

TEST_F(RolloutTest, AnUnhealthyNewInstanceIsStoppedAndTheOldOneKeepsServing) {
  deploy(checked("web", 1));
  rollouts_.release(checked("web", 2));
  rollouts_.started("web", Status::ok());
  RolloutActions actions = rollouts_.health({"web", "web-2", "unhealthy", "HTTP 500"});
  const RolloutAction* stop = find(actions, Kind::kStopInstance);
  ASSERT_NE(stop, nullptr);
  EXPECT_EQ(stop->instance.id, "web-2");
  EXPECT_EQ(find(actions, Kind::kSwitchTraffic), nullptr);
  EXPECT_EQ(rollouts_.serving().at("web").id, "web-1");
  EXPECT_EQ(
      rollouts_.reports().at("web"),
      (AppReport{2, "failed",
                 "release 2 health check failed: HTTP 500; its last log lines:\nlistening\ncrashed",
                 1}));
}

TEST_F(RolloutTest, ANewInstanceNotHealthyInTimeFails) {
  deploy(checked("web", 1));
  rollouts_.release(checked("web", 2));
  rollouts_.started("web", Status::ok());
  clock_.advance(80s);
  EXPECT_TRUE(rollouts_.expire().empty());
  clock_.advance(1ms);
  log_tail_ = "";
  RolloutActions actions = rollouts_.expire();
  ASSERT_NE(find(actions, Kind::kStopInstance), nullptr);
  EXPECT_EQ(rollouts_.reports().at("web"),
            (AppReport{2, "failed", "release 2 not healthy in time", 1}));
  EXPECT_FALSE(rollouts_.busy());
}

TEST_F(RolloutTest, AFailedReleaseIsNotRetriedButANewerOneIs) {
  deploy(checked("web", 1));
  rollouts_.release(checked("web", 2));
  rollouts_.started("web", Status::ok());
  rollouts_.health({"web", "web-2", "unhealthy", "down"});
  EXPECT_TRUE(rollouts_.release(checked("web", 2)).empty());
  EXPECT_NE(find(rollouts_.release(checked("web", 3)), Kind::kStartInstance), nullptr);
}

TEST_F(RolloutTest, AFailedStartStopFirstLeavesNothingServing) {
  deploy(unchecked("web", 1));
  rollouts_.release(unchecked("web", 2));
  RolloutActions actions = rollouts_.started("web", unavailable("guest channel is not up"));
  EXPECT_NE(find(actions, Kind::kSwitchTraffic), nullptr);
  EXPECT_FALSE(rollouts_.serving().count("web"));
  EXPECT_EQ(rollouts_.reports().at("web"), (AppReport{2, "failed", "guest channel is not up", 0}));
  EXPECT_TRUE(rollouts_.release(unchecked("web", 2)).empty());
}

TEST_F(RolloutTest, AFailedStartStartFirstKeepsTheOldOneAndNamesIt) {
  deploy(checked("web", 1));
  rollouts_.release(checked("web", 2));
  rollouts_.started("web", failedPrecondition("cannot publish port 80"));
  EXPECT_EQ(rollouts_.serving().at("web").id, "web-1");
  EXPECT_EQ(rollouts_.reports().at("web"), (AppReport{2, "failed", "cannot publish port 80", 1}));
}

TEST_F(RolloutTest, AReleaseWhoseSpecAlreadyServesOnlyRelabelsIt) {
  deploy(checked("web", 1, "same"));
  deploy(checked("web", 2, "other"));
  rollouts_.drain([](const std::string&, const Instance&) { return std::size_t{0}; });
  // berthd rolls back: release 3 restores release 2's spec, which serves.
  RolloutActions actions = rollouts_.release(checked("web", 3, "other"));
  EXPECT_EQ(kinds(actions), (std::vector<Kind>{Kind::kSave, Kind::kReport}));
  EXPECT_EQ(rollouts_.serving().at("web").id, "web-2");
  EXPECT_EQ(rollouts_.serving().at("web").release, 3);
  EXPECT_EQ(rollouts_.reports().at("web"), (AppReport{3, "running", "", 0}));
}

TEST_F(RolloutTest, ARollbackToTheServingSpecEndsTheFailedTrialThenRelabels) {
  deploy(checked("web", 1, "good"));
  rollouts_.release(checked("web", 2, "bad"));
  rollouts_.started("web", Status::ok());
  rollouts_.health({"web", "web-2", "unhealthy", "down"});
  RolloutActions actions = rollouts_.release(checked("web", 3, "good"));
  EXPECT_EQ(find(actions, Kind::kStartInstance), nullptr);
  EXPECT_EQ(rollouts_.serving().at("web").release, 3);
  EXPECT_EQ(rollouts_.reports().at("web").state, "running");
}

TEST_F(RolloutTest, ANewerReleaseSupersedesTheOneOnTrial) {
  deploy(checked("web", 1));
  rollouts_.release(checked("web", 2));
  rollouts_.started("web", Status::ok());
  RolloutActions actions = rollouts_.release(checked("web", 3));
  ASSERT_GE(actions.size(), 1u);
  EXPECT_EQ(actions[0].kind, Kind::kStopInstance);
  EXPECT_EQ(actions[0].instance.id, "web-2");
  const RolloutAction* start = find(actions, Kind::kStartInstance);
  ASSERT_NE(start, nullptr);
  EXPECT_EQ(start->instance.id, "web-3");
  // The superseded instance's verdict no longer counts.
  EXPECT_TRUE(rollouts_.health({"web", "web-2", "healthy", ""}).empty());
}

TEST_F(RolloutTest, ANewReleaseEndsTheDrainOfTheInstanceHoldingItsSlot) {
  deploy(checked("web", 1));
  deploy(checked("web", 2));
  RolloutActions actions = rollouts_.release(checked("web", 3));
  ASSERT_GE(actions.size(), 1u);
  EXPECT_EQ(actions[0].kind, Kind::kStopInstance);
  EXPECT_EQ(actions[0].instance.id, "web-1");
  EXPECT_EQ(find(actions, Kind::kStartInstance)->instance.slot, 0);
}

TEST_F(RolloutTest, AServingInstanceThatTurnsUnhealthyIsReportedNotReplaced) {
  deploy(checked("web", 1));
  RolloutActions actions = rollouts_.health({"web", "web-1", "unhealthy", "timeout"});
  EXPECT_EQ(kinds(actions), std::vector<Kind>{Kind::kReport});
  EXPECT_EQ(rollouts_.reports().at("web"),
            (AppReport{1, "unhealthy", "health check failing: timeout", 0}));
  rollouts_.health({"web", "web-1", "healthy", ""});
  EXPECT_EQ(rollouts_.reports().at("web"), (AppReport{1, "running", "", 0}));
}

TEST_F(RolloutTest, AppsNoLongerAssignedAreStoppedAndForgotten) {
  deploy(unchecked("web", 1));
  deploy(unchecked("api", 1));
  RolloutActions actions = rollouts_.keepOnly({"api"});
  ASSERT_NE(find(actions, Kind::kStopApp), nullptr);
  EXPECT_EQ(find(actions, Kind::kStopApp)->app, "web");
  EXPECT_FALSE(rollouts_.serving().count("web"));
  EXPECT_FALSE(rollouts_.reports().count("web"));
  EXPECT_TRUE(rollouts_.keepOnly({"api"}).empty());
}

TEST_F(RolloutTest, TheGuestsHelloDecidesWhatRuns) {
  rollouts_.adopt({{"web", Instance{"web-3", 3, "s", 0, "", ""}},
                   {"api", Instance{"api-1", 1, "s", 0, "", ""}}});
  // The guest rebooted api away, and runs an instance of a rollout the agent lost.
  RolloutActions actions = rollouts_.guestRuns({{"web-3", "web"}, {"web-4", "web"}});
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].kind, Kind::kStopInstance);
  EXPECT_EQ(actions[0].app, "web");
  EXPECT_EQ(actions[0].instance.id, "web-4");
  EXPECT_EQ(rollouts_.serving().size(), 1u);
  // api is deployed again.
  EXPECT_NE(find(rollouts_.release(unchecked("api", 1)), Kind::kStartInstance), nullptr);
}

TEST_F(RolloutTest, AfterTheGuestIsGoneAFailedReleaseIsTriedAgain) {
  rollouts_.release(unchecked("web", 1));
  rollouts_.started("web", unavailable("no"));
  EXPECT_TRUE(rollouts_.release(unchecked("web", 1)).empty());
  rollouts_.forget();
  EXPECT_NE(find(rollouts_.release(unchecked("web", 1)), Kind::kStartInstance), nullptr);
}

TEST(ReleaseOf, TakesTheHealthLimitFromTheCheck) {
  model::AppAssignment app;
  app.name = "web";
  app.release = 4;
  app.spec.health.type = "http";
  app.spec.ports.push_back({});
  const Release r = releaseOf(app);
  EXPECT_TRUE(r.health_checked);
  EXPECT_EQ(r.ports, 1u);
  // grace 5 s + (3 + 1) x (10 s + 2 s) + 60 s
  EXPECT_EQ(r.health_limit, 113s);
  EXPECT_EQ(r.spec, model::appSpecToJson(app.spec).dump());
}

}  // namespace
}  // namespace berth::agent
