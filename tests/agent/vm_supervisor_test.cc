// A VM's supervisor against a fake runtime and a fake guest: boot, adoption, backoff, stop,
// restart, the hello deadline, a rollout carried out, retirement, and a stuck guest that holds
// up its own VM only.

#include "agent/vm_supervisor.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "agent/deployed_state.h"
#include "fakes.h"
#include "os/file_util.h"
#include "os/temp_dir.h"

namespace berth::agent {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

model::VmSpec vmSpec(const std::string& name, std::string power = "running",
                     int64_t generation = 0) {
  model::VmSpec vm;
  vm.project = "p";
  vm.name = name;
  vm.power = std::move(power);
  vm.restart_generation = generation;
  return vm;
}

model::AppAssignment app(const std::string& name, int64_t release, std::string health = "") {
  model::AppAssignment a;
  a.project = "p";
  a.name = name;
  a.vm = "vm";
  a.release = release;
  a.spec.command = {"busybox", "httpd", "-f", "-p", "$(PORT)", "-r", std::to_string(release)};
  a.spec.ports.push_back(model::PortSpec{8080, "tcp", 0});
  a.spec.health.type = std::move(health);
  return a;
}

// Waits in real time (for tests with worker threads).
template <typename Predicate>
bool eventually(Predicate p, std::chrono::milliseconds limit = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!p()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

class VmSupervisorTest : public ::testing::Test {
 protected:
  SupervisorContext contextFor(const std::shared_ptr<FakeGuest>& guest) {
    return SupervisorContext{paths_,      runtimes_,          network_,
                             router_,     reporter_,          images_,
                             clock_,      guest->connector(), VmBoot{"/k/vmlinuz", "/k/initramfs"},
                             kAppLogBytes};
  }
  std::unique_ptr<VmSupervisor> supervisor(const std::string& name = "vm") {
    return std::make_unique<VmSupervisor>(VmKey{"p", name}, context_);
  }
  Paths::Vm vmPaths(const std::string& name = "vm") const { return paths_.vm("p", name); }
  // The VM as the node reports it.
  model::VmObservation observed(const std::string& name = "vm") const {
    for (const auto& vm : reporter_.build().vms) {
      if (vm.name == name) return vm;
    }
    return {};
  }
  std::vector<model::AppObservation> apps() const { return reporter_.build().apps; }

  os::TempDir dir_ = os::TempDir::create("vm-supervisor-").value();
  Paths paths_{dir_.path()};
  FakeClock clock_;
  // The registry owns the fake driver; runtime_ is how the tests steer it.
  RuntimeRegistry runtimes_ = registryWith(std::make_unique<FakeRuntime>());
  FakeRuntime& runtime_ = static_cast<FakeRuntime&>(*runtimes_.find("qemu").value());
  FakeNetwork network_;
  FakeApiClient api_;
  RecordingIngress ingress_;
  TrafficRouter router_{PortPublisher("/nonexistent/berth-agent", paths_.proxiesDir()), ingress_};
  NodeReporter reporter_{"node-1", api_};
  ImageDelivery images_{api_, paths_};
  std::shared_ptr<FakeGuest> guest_ = std::make_shared<FakeGuest>();
  SupervisorContext context_ = contextFor(guest_);
};

TEST_F(VmSupervisorTest, BootsAVmDesiredRunningAndConnectsItsGuest) {
  auto s = supervisor();
  s->assign(vmSpec("vm"), {});
  s->pass();
  EXPECT_EQ(runtime_.starts(), 1u);
  EXPECT_EQ(guest_->calls("hello").size(), 1u);
  EXPECT_EQ(observed().state, "running");
  EXPECT_NE(s->liveChannel(), nullptr);
  EXPECT_EQ(os::readFile(vmPaths().dir + "/generation").value(), "0");
  s->pass();
  EXPECT_EQ(runtime_.starts(), 1u);
}

TEST_F(VmSupervisorTest, NothingHappensBeforeAnAssignment) {
  auto s = supervisor();
  s->pass();
  EXPECT_EQ(runtime_.starts(), 0u);
  EXPECT_FALSE(s->settled());
}

TEST_F(VmSupervisorTest, AVmNamingARuntimeTheNodeLacksFailsAndNothingBoots) {
  auto s = supervisor();
  model::VmSpec vm = vmSpec("vm");
  vm.runtime = "firecracker";
  s->assign(vm, {});
  s->pass();
  EXPECT_EQ(runtime_.starts(), 0u);
  EXPECT_EQ(observed().state, "failed");
  EXPECT_EQ(observed().detail,
            "runtime 'firecracker' is not available on node node-1; it has: qemu");
}

TEST_F(VmSupervisorTest, BootsWithTheNetworksNics) {
  auto s = supervisor();
  s->assign(vmSpec("vm"), {});
  s->pass();
  ASSERT_EQ(runtime_.starts(), 1u);
  EXPECT_EQ(runtime_.lastLaunch().nics.size(), 1u);
  EXPECT_EQ(runtime_.lastLaunch().kernel, "/k/vmlinuz");
}

TEST_F(VmSupervisorTest, AdoptsAVmWhoseQemuStillRunsWithWhatItServed) {
  ASSERT_TRUE(os::makeDirs(vmPaths().dir).isOk());
  ASSERT_TRUE(os::writeFileAtomic(vmPaths().dir + "/generation", "2").isOk());
  const model::AppAssignment web = app("web", 3);
  const std::string spec = model::appSpecToJson(web.spec).dump();
  ASSERT_TRUE(saveDeployedState(vmPaths().appsState(),
                                DeployedState{{{"web", Instance{"web-3", 3, spec, 0, "", ""}}},
                                              {{8080, "127.0.0.1:40000"}}})
                  .isOk());
  runtime_.leaveRunning(vmPaths(), 4242);
  guest_->runs({{"web-3", "web"}});

  auto s = supervisor();
  s->assign(vmSpec("vm", "running", 2), {web});
  s->pass();
  EXPECT_EQ(runtime_.starts(), 0u);
  EXPECT_EQ(observed().state, "running");
  // Release 3 already serves: nothing is deployed again, nothing stopped.
  EXPECT_TRUE(guest_->calls("run_app").empty());
  EXPECT_TRUE(guest_->calls("stop_app").empty());
  EXPECT_TRUE(network_.forwards().empty());
}

TEST_F(VmSupervisorTest, AnAdoptedGuestThatLostAnAppGetsItAgainAndStopsWhatNobodyKnows) {
  const model::AppAssignment web = app("web", 3);
  ASSERT_TRUE(os::makeDirs(vmPaths().dir).isOk());
  ASSERT_TRUE(saveDeployedState(vmPaths().appsState(),
                                DeployedState{{{"web", Instance{"web-3", 3, "x", 0, "", ""}}}, {}})
                  .isOk());
  runtime_.leaveRunning(vmPaths(), 4242);
  guest_->runs({{"web-9", "web"}});
  auto s = supervisor();
  s->assign(vmSpec("vm"), {web});
  s->pass();
  ASSERT_EQ(guest_->calls("stop_app").size(), 1u);
  EXPECT_EQ(guest_->calls("stop_app")[0].body, (json{{"app", "web"}, {"instance", "web-9"}}));
  ASSERT_EQ(guest_->calls("run_app").size(), 1u);
  EXPECT_EQ(guest_->calls("run_app")[0].body["instance"], "web-3");
}

TEST_F(VmSupervisorTest, BootsAgainWithBackoffAfterQemuExitsUnexpectedly) {
  auto s = supervisor();
  s->assign(vmSpec("vm"), {});
  s->pass();
  runtime_.exit(vmPaths());
  s->pass();
  EXPECT_EQ(observed().state, "failed");
  EXPECT_EQ(observed().detail, "QEMU exited unexpectedly; booting again in 1s");
  EXPECT_EQ(runtime_.starts(), 1u);
  clock_.advance(900ms);
  s->pass();
  EXPECT_EQ(runtime_.starts(), 1u);
  clock_.advance(100ms);
  s->pass();
  EXPECT_EQ(runtime_.starts(), 2u);
  EXPECT_EQ(observed().state, "running");

  // Running reset the count; failures in a row then lengthen the wait.
  runtime_.exit(vmPaths());
  s->pass();
  EXPECT_EQ(observed().detail, "QEMU exited unexpectedly; booting again in 1s");
  runtime_.failStarts("qemu-system-x86_64 not found");
  clock_.advance(1s);
  s->pass();
  EXPECT_EQ(runtime_.starts(), 3u);
  EXPECT_EQ(observed().state, "failed");
  EXPECT_EQ(observed().detail, "qemu-system-x86_64 not found");
  clock_.advance(4s - 1ms);
  s->pass();
  EXPECT_EQ(runtime_.starts(), 3u);
  clock_.advance(1ms);
  s->pass();
  EXPECT_EQ(runtime_.starts(), 4u);
}

TEST_F(VmSupervisorTest, StopsAVmDesiredStoppedThroughItsGuest) {
  auto s = supervisor();
  s->assign(vmSpec("vm"), {});
  s->pass();
  guest_->onRequest("shutdown", [this] { runtime_.exit(vmPaths()); });
  s->assign(vmSpec("vm", "stopped"), {});
  s->pass();
  EXPECT_EQ(guest_->calls("shutdown").size(), 1u);
  EXPECT_EQ(runtime_.stops(), 0);
  EXPECT_EQ(runtime_.kills(), 0);
  EXPECT_EQ(observed().state, "stopped");
  EXPECT_FALSE(runtime_.running(vmPaths()));
  s->pass();
  EXPECT_EQ(runtime_.starts(), 1u);
}

TEST_F(VmSupervisorTest, WithoutAGuestAStopIsThePowerButton) {
  guest_->refuse("hello", "not yet");
  auto s = supervisor();
  s->assign(vmSpec("vm"), {});
  s->pass();
  EXPECT_EQ(observed().state, "starting");
  s->assign(vmSpec("vm", "stopped"), {});
  s->pass();
  EXPECT_EQ(runtime_.stops(), 1);
  EXPECT_EQ(observed().state, "stopped");
}

TEST_F(VmSupervisorTest, RestartsOnAHigherRestartGeneration) {
  guest_->onRequest("shutdown", [this] { runtime_.exit(vmPaths()); });
  auto s = supervisor();
  s->assign(vmSpec("vm", "running", 0), {});
  s->pass();
  s->assign(vmSpec("vm", "running", 0), {});
  s->pass();
  EXPECT_EQ(runtime_.starts(), 1u);
  s->assign(vmSpec("vm", "running", 1), {});
  s->pass();
  EXPECT_EQ(guest_->calls("shutdown").size(), 1u);
  EXPECT_EQ(runtime_.starts(), 2u);
  EXPECT_EQ(observed().state, "running");
  EXPECT_EQ(os::readFile(vmPaths().dir + "/generation").value(), "1");
}

TEST_F(VmSupervisorTest, AGuestThatNeverSaysHelloIsEndedAfterTheDeadlineAndBootedAgain) {
  guest_->refuse("hello", "guest did not answer hello in time");
  auto s = supervisor();
  s->assign(vmSpec("vm"), {});
  s->pass();
  EXPECT_EQ(observed().state, "starting");
  clock_.advance(119s);
  s->pass();
  EXPECT_EQ(runtime_.kills(), 0);
  clock_.advance(2s);
  s->pass();
  EXPECT_EQ(runtime_.kills(), 1);
  EXPECT_FALSE(runtime_.running(vmPaths()));
  EXPECT_EQ(observed().state, "failed");
  EXPECT_EQ(observed().detail,
            "the guest did not say hello within 120 s of booting (see berth vm console); booting "
            "again in 1s");
  clock_.advance(1s);
  s->pass();
  EXPECT_EQ(runtime_.starts(), 2u);
}

TEST_F(VmSupervisorTest, AGuestThatBreaksTheProtocolFailsTheVmUntilItBootsAgain) {
  auto s = supervisor();
  s->assign(vmSpec("vm"), {});
  s->pass();
  guest_->channel()->breakProtocol("guest sent a bad frame: unknown message type 'x'");
  s->pass();
  EXPECT_EQ(observed().state, "failed");
  EXPECT_EQ(observed().detail,
            "guest channel closed: guest sent a bad frame: unknown message type 'x'");
  EXPECT_EQ(s->liveChannel(), nullptr);
  // Its QEMU keeps running, and the channel stays closed.
  s->pass();
  EXPECT_EQ(observed().state, "failed");
  EXPECT_EQ(guest_->calls("hello").size(), 1u);
  EXPECT_EQ(runtime_.kills(), 0);
  EXPECT_EQ(runtime_.starts(), 1u);
  // A new boot connects again.
  runtime_.exit(vmPaths());
  s->pass();
  clock_.advance(1s);
  s->pass();
  EXPECT_EQ(runtime_.starts(), 2u);
  EXPECT_EQ(observed().state, "running");
}

TEST_F(VmSupervisorTest, DeploysAReleaseAndRollsTheNextOutWhenItIsHealthy) {
  auto s = supervisor();
  s->assign(vmSpec("vm"), {app("web", 1, "http")});
  s->pass();
  ASSERT_EQ(guest_->calls("run_app").size(), 1u);
  auto first = guest::RunAppRequest::decode(guest_->calls("run_app")[0].body);
  ASSERT_TRUE(first.isOk()) << first.status().toString();
  EXPECT_EQ(first->instance, "web-1");
  EXPECT_TRUE(first->replace);
  EXPECT_EQ(first->env.at("PORT"), "8080");
  ASSERT_TRUE(first->health);
  EXPECT_EQ(first->health->port, 8080);
  ASSERT_EQ(apps().size(), 1u);
  EXPECT_EQ(apps()[0].state, "deploying");

  guest_->channel()->notify(
      "app_health",
      {{"app", "web"}, {"instance", "web-1"}, {"health", "healthy"}, {"from", "starting"}});
  s->pass();
  EXPECT_EQ(apps()[0].state, "running");
  EXPECT_EQ(apps()[0].release, 1);

  s->assign(vmSpec("vm"), {app("web", 2, "http")});
  s->pass();
  ASSERT_EQ(guest_->calls("run_app").size(), 2u);
  auto second = guest::RunAppRequest::decode(guest_->calls("run_app")[1].body);
  ASSERT_TRUE(second.isOk()) << second.status().toString();
  EXPECT_FALSE(second->replace);
  EXPECT_EQ(second->env.at("PORT"), "18080");
  EXPECT_EQ(apps()[0].release, 2);
  EXPECT_EQ(apps()[0].state, "deploying");
  EXPECT_TRUE(guest_->calls("stop_app").empty());

  guest_->channel()->notify(
      "app_health",
      {{"app", "web"}, {"instance", "web-2"}, {"health", "healthy"}, {"from", "starting"}});
  s->pass();
  EXPECT_EQ(apps()[0].state, "running");
  // No published port, so no connection to wait for: the old instance stops at once.
  ASSERT_EQ(guest_->calls("stop_app").size(), 1u);
  EXPECT_EQ(guest_->calls("stop_app")[0].body, (json{{"app", "web"}, {"instance", "web-1"}}));
  EXPECT_EQ(loadDeployedState(vmPaths().appsState()).serving.at("web").id, "web-2");
}

TEST_F(VmSupervisorTest,
       AnAppsDomainsGoToTheServingInstanceAndTheReplacedOneDrainsItsIngressRequests) {
  auto s = supervisor();
  router_.startPruning();  // every VM of the node has had its say (one, here)
  auto web = [](int64_t release) {
    model::AppAssignment a = app("web", release, "http");
    a.domains = {"shop.example.com", "www.shop.example.com"};
    return a;
  };
  s->assign(vmSpec("vm"), {web(1)});
  s->pass();
  guest_->channel()->notify(
      "app_health",
      {{"app", "web"}, {"instance", "web-1"}, {"health", "healthy"}, {"from", "starting"}});
  s->pass();
  ASSERT_FALSE(ingress_.routed().empty());
  // The ingress reaches slot 0's port 8080 through the network's forward.
  const DomainBackends first = ingress_.routed().back();
  ASSERT_EQ(first.size(), 2u);
  const Backend old_backend = first.at("shop.example.com").at(0);
  EXPECT_EQ(first.at("www.shop.example.com"), std::vector<Backend>{old_backend});
  EXPECT_EQ(network_.forwards().at(0), std::make_pair(old_backend, 8080));

  // A request under way to the old instance holds it until it is done.
  ingress_.setRequests(old_backend, 1);
  s->assign(vmSpec("vm"), {web(2)});
  s->pass();
  guest_->channel()->notify(
      "app_health",
      {{"app", "web"}, {"instance", "web-2"}, {"health", "healthy"}, {"from", "starting"}});
  s->pass();
  const DomainBackends second = ingress_.routed().back();
  ASSERT_EQ(second.at("shop.example.com").size(), 1u);
  const Backend new_backend = second.at("shop.example.com").at(0);
  EXPECT_NE(new_backend, old_backend);
  EXPECT_EQ(network_.forwards().back(), std::make_pair(new_backend, 18080));
  EXPECT_TRUE(guest_->calls("stop_app").empty());

  ingress_.setRequests(old_backend, 0);
  s->pass();
  ASSERT_EQ(guest_->calls("stop_app").size(), 1u);
  EXPECT_EQ(guest_->calls("stop_app")[0].body, (json{{"app", "web"}, {"instance", "web-1"}}));

  // Its domains removed, the app is no longer routed.
  s->assign(vmSpec("vm"), {app("web", 2, "http")});
  s->pass();
  EXPECT_TRUE(ingress_.routed().back().empty());
}

TEST_F(VmSupervisorTest, ANotificationThatDoesNotDecodeIsIgnoredAndTheChannelStaysUp) {
  auto s = supervisor();
  s->assign(vmSpec("vm"), {app("web", 1, "http")});
  s->pass();
  ASSERT_EQ(apps().size(), 1u);
  // A hostile guest: fields of the wrong type, and a health state that does not exist.
  guest_->channel()->notify(
      "app_health", {{"app", "web"}, {"instance", 7}, {"health", "healthy"}, {"from", "starting"}});
  guest_->channel()->notify(
      "app_health",
      {{"app", "web"}, {"instance", "web-1"}, {"health", "great"}, {"from", "starting"}});
  guest_->channel()->notify("app_started", {{"app", "web"}, {"instance", "web-1"}, {"pid", "one"}});
  guest_->channel()->notify(
      "log", {{"app", "web"}, {"instance", "web-1"}, {"stream", "stdout"}, {"data", 5}});
  s->pass();
  EXPECT_EQ(apps()[0].state, "deploying");
  EXPECT_EQ(observed().state, "running");
  EXPECT_NE(::access(vmPaths().appLog("web").c_str(), F_OK), 0);

  guest_->channel()->notify(
      "app_health",
      {{"app", "web"}, {"instance", "web-1"}, {"health", "healthy"}, {"from", "starting"}});
  s->pass();
  EXPECT_EQ(apps()[0].state, "running");
  EXPECT_EQ(guest_->calls("hello").size(), 1u);
}

TEST_F(VmSupervisorTest, AFailedRolloutIsReportedWithTheInstancesLastLogLines) {
  auto s = supervisor();
  s->assign(vmSpec("vm"), {app("web", 1)});
  s->pass();
  s->assign(vmSpec("vm"), {app("web", 2, "tcp")});
  s->pass();
  guest_->channel()->notify("log", {{"app", "web"},
                                    {"instance", "web-2"},
                                    {"stream", "stderr"},
                                    {"seq", 0u},
                                    {"ts_ms", 1u},
                                    {"data", json::binary({'b', 'o', 'o', 'm', '\n'})}});
  guest_->channel()->notify("app_health", {{"app", "web"},
                                           {"instance", "web-2"},
                                           {"health", "unhealthy"},
                                           {"from", "starting"},
                                           {"detail", "refused"}});
  s->pass();
  ASSERT_EQ(apps().size(), 1u);
  EXPECT_EQ(apps()[0].state, "failed");
  EXPECT_EQ(apps()[0].detail, "release 2 health check failed: refused; its last log lines:\nboom");
  EXPECT_EQ(guest_->calls("stop_app").back().body, (json{{"app", "web"}, {"instance", "web-2"}}));
}

TEST_F(VmSupervisorTest, AnAppNoLongerAssignedIsStopped) {
  auto s = supervisor();
  s->assign(vmSpec("vm"), {app("web", 1)});
  s->pass();
  s->assign(vmSpec("vm"), {});
  s->pass();
  ASSERT_EQ(guest_->calls("stop_app").size(), 1u);
  EXPECT_EQ(guest_->calls("stop_app")[0].body, (json{{"app", "web"}}));
  EXPECT_TRUE(apps().empty());
}

TEST_F(VmSupervisorTest, ARetiredVmIsEndedItsFilesRemovedAndItLeavesTheReport) {
  auto s = supervisor();
  s->assign(vmSpec("vm"), {});
  s->pass();
  ASSERT_EQ(reporter_.build().vms.size(), 1u);
  s->start();
  s->retire();
  EXPECT_TRUE(reporter_.build().vms.empty());
  ASSERT_TRUE(eventually([&] { return s->finished(); }));
  EXPECT_EQ(runtime_.kills(), 1);
  EXPECT_NE(::access(vmPaths().dir.c_str(), F_OK), 0);
  EXPECT_TRUE(reporter_.build().vms.empty());
}

TEST_F(VmSupervisorTest, AStuckGuestHoldsUpItsOwnVmOnlyAndStopCutsItShort) {
  // vm "stuck" answers hello, then never answers run_app.
  auto stuck_guest = std::make_shared<FakeGuest>();
  stuck_guest->hold("run_app");
  SupervisorContext stuck_context = contextFor(stuck_guest);
  VmSupervisor stuck(VmKey{"p", "stuck"}, stuck_context);
  model::AppAssignment web = app("web", 1);
  web.vm = "stuck";
  stuck.assign(vmSpec("stuck"), {web});
  stuck.start();
  ASSERT_TRUE(eventually([&] { return stuck_guest->calls("run_app").size() == 1; }));

  auto calm = supervisor("calm");
  calm->assign(vmSpec("calm"), {});
  calm->start();
  EXPECT_TRUE(eventually([&] { return observed("calm").state == "running"; }));
  // The stuck one's last snapshot is there, and its deploy still waits.
  EXPECT_EQ(observed("stuck").state, "running");
  ASSERT_EQ(apps().size(), 1u);
  EXPECT_EQ(apps()[0].state, "deploying");

  const auto before = std::chrono::steady_clock::now();
  stuck.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 5s);
  calm->stop();
  EXPECT_TRUE(runtime_.running(paths_.vm("p", "stuck")));
}

}  // namespace
}  // namespace berth::agent
