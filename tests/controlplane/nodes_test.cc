#include <gtest/gtest.h>

#include "controlplane/service/control_plane.h"
#include "controlplane/service/scheduler.h"
#include "os/temp_dir.h"
#include "store/sqlite_store.h"

namespace berth::controlplane {
namespace {

class NodesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.emplace(std::move(os::TempDir::create("berth-nodes-").value()));
    store_ = std::move(store::SqliteStore::open(dir_->path() + "/berth.db").value());
    cp_ = std::make_unique<ControlPlane>(*store_, clock_);
    admin_ = cp_->authenticate(**cp_->bootstrapAdminToken()).value();
    scheduler_ = std::make_unique<Scheduler>(*store_, clock_, SchedulerOptions{std::chrono::seconds(30)});
    ASSERT_TRUE(cp_->createProject(admin_, "a", {}).isOk());
  }

  Principal nodeToken(const std::string& name) {
    auto t = cp_->createToken(admin_, name, Role::kNode, std::nullopt);
    EXPECT_TRUE(t.isOk()) << t.status().toString();
    return cp_->authenticate(t->secret).value();
  }

  Status registerNode(const Principal& who, const std::string& name, int64_t memory_mib) {
    store::Node n;
    n.name = name;
    n.vcpus = 4;
    n.memory_mib = memory_mib;
    n.disk_gib = 20;
    return cp_->registerNode(who, n).status();
  }

  store::Vm vm(const std::string& name, int64_t memory_mib) {
    store::Vm v;
    v.project = "a";
    v.name = name;
    v.memory_mib = memory_mib;
    v.disk_gib = 1;
    EXPECT_TRUE(cp_->createVm(admin_, v).isOk());
    return cp_->getVm(admin_, "a", name).value();
  }

  FakeClock clock_;
  std::optional<os::TempDir> dir_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<ControlPlane> cp_;
  std::unique_ptr<Scheduler> scheduler_;
  Principal admin_;
};

TEST_F(NodesTest, NodeTokensActOnlyForTheirNode) {
  Principal n1 = nodeToken("n1");
  EXPECT_TRUE(registerNode(n1, "n1", 4096).isOk());
  EXPECT_EQ(registerNode(n1, "n2", 4096).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(cp_->listNodes(n1).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(cp_->getProject(n1, "a").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(cp_->nodeAssignment(n1, "n2").status().code(), StatusCode::kPermissionDenied);
}

TEST_F(NodesTest, SchedulerPlacesOnTheNodeWithMostFreeMemoryThatFits) {
  ASSERT_TRUE(registerNode(admin_, "small", 1024).isOk());
  ASSERT_TRUE(registerNode(admin_, "big", 4096).isOk());
  // Created in this order, placed in this order: "huge" comes first by name but last in time.
  vm("one", 2048);
  clock_.advance(std::chrono::milliseconds(1));
  vm("two", 2048);
  clock_.advance(std::chrono::milliseconds(1));
  vm("huge", 3000);
  ASSERT_TRUE(scheduler_->runOnce().isOk());
  EXPECT_EQ(cp_->getVm(admin_, "a", "one")->node, "big");
  EXPECT_EQ(cp_->getVm(admin_, "a", "two")->node, "big");
  auto huge = cp_->getVm(admin_, "a", "huge").value();
  EXPECT_FALSE(huge.node.has_value());
  EXPECT_EQ(huge.state_detail, "no ready node has room for 1 vCPUs, 3000 MiB and 1 GiB");
  // Running it again changes nothing: idempotent.
  int64_t seq = store_->lastEventSeq();
  ASSERT_TRUE(scheduler_->runOnce().isOk());
  EXPECT_EQ(store_->lastEventSeq(), seq);
}

TEST_F(NodesTest, DrainingAndLostNodesGetNoNewVms) {
  ASSERT_TRUE(registerNode(admin_, "n1", 4096).isOk());
  ASSERT_TRUE(registerNode(admin_, "n2", 4096).isOk());
  ASSERT_TRUE(cp_->drainNode(admin_, "n1").isOk());
  clock_.advance(std::chrono::seconds(31));
  ASSERT_TRUE(cp_->reportNodeStatus(admin_, "n1", {}).isOk());  // n1 heartbeats, n2 is silent
  vm("one", 512);
  ASSERT_TRUE(scheduler_->runOnce().isOk());
  auto nodes = cp_->listNodes(admin_).value();
  EXPECT_EQ(nodes[0].state, "draining");
  EXPECT_EQ(nodes[1].state, "lost");
  EXPECT_FALSE(cp_->getVm(admin_, "a", "one")->node.has_value());
  // A lost node that registers again is ready and gets the VM.
  ASSERT_TRUE(registerNode(admin_, "n2", 4096).isOk());
  ASSERT_TRUE(scheduler_->runOnce().isOk());
  EXPECT_EQ(cp_->getVm(admin_, "a", "one")->node, "n2");
}

TEST_F(NodesTest, ALostNodeThatReportsAgainIsReadyOnceWithOneEvent) {
  ASSERT_TRUE(registerNode(admin_, "n1", 4096).isOk());
  clock_.advance(std::chrono::seconds(31));
  ASSERT_TRUE(scheduler_->runOnce().isOk());
  ASSERT_EQ(cp_->listNodes(admin_).value()[0].state, "lost");
  const int64_t seq = store_->lastEventSeq();
  ASSERT_TRUE(cp_->reportNodeStatus(admin_, "n1", {}).isOk());
  ASSERT_TRUE(cp_->reportNodeStatus(admin_, "n1", {}).isOk());
  EXPECT_EQ(cp_->listNodes(admin_).value()[0].state, "ready");
  auto events = cp_->listEvents(admin_, seq, std::nullopt, 100).value();
  ASSERT_EQ(events.size(), 1u) << "a heartbeat of a ready node is not an event";
  EXPECT_EQ(events[0].action, "node.ready");
}

TEST_F(NodesTest, AssignmentCarriesVmsAndTheirAppsAndReportsUpdateState) {
  Principal n1 = nodeToken("n1");
  ASSERT_TRUE(registerNode(n1, "n1", 4096).isOk());
  vm("web", 512);
  vm("worker", 512);
  AppSpecPatch unpinned, pinned;
  unpinned.command = std::vector<std::string>{"httpd"};
  pinned.command = std::vector<std::string>{"work"};
  pinned.vm = "worker";
  ASSERT_TRUE(cp_->createApp(admin_, "a", "site", unpinned).isOk());
  ASSERT_TRUE(cp_->createApp(admin_, "a", "job", pinned).isOk());
  ASSERT_TRUE(scheduler_->runOnce().isOk());

  auto assignment = cp_->nodeAssignment(n1, "n1");
  ASSERT_TRUE(assignment.isOk());
  ASSERT_EQ(assignment->vms.size(), 2u);
  ASSERT_EQ(assignment->apps.size(), 2u);
  EXPECT_EQ(appSpecFromJson(assignment->apps[0].spec_json)->vm, "worker");  // job
  EXPECT_EQ(appSpecFromJson(assignment->apps[1].spec_json)->vm, "web");     // site: first VM by name
  EXPECT_EQ(assignment->revision, store_->lastEventSeq());

  int64_t version = cp_->getVm(admin_, "a", "web")->version;
  ASSERT_TRUE(cp_->reportNodeStatus(n1, "n1", {{"a", "web", "running", ""}}).isOk());
  auto web = cp_->getVm(admin_, "a", "web").value();
  EXPECT_EQ(web.state, "running");
  EXPECT_EQ(web.version, version);  // observed state is not a desired-state change
  auto events = cp_->listEvents(admin_, 0, std::nullopt, 1000).value();
  EXPECT_EQ(events.back().action, "vm.state");
  EXPECT_EQ(cp_->reportNodeStatus(n1, "n1", {{"a", "web", "exploded", ""}}).code(), StatusCode::kInvalidArgument);
}

TEST_F(NodesTest, RestartBumpsTheGeneration) {
  vm("web", 512);
  auto restarted = cp_->powerVm(admin_, "a", "web", PowerAction::kRestart, std::nullopt);
  ASSERT_TRUE(restarted.isOk());
  EXPECT_EQ(restarted->restart_generation, 1);
  EXPECT_EQ(restarted->power, "running");
}

}  // namespace
}  // namespace berth::controlplane

namespace berth::controlplane {
namespace {

TEST_F(NodesTest, NodeTokensReadNoEvents) {
  Principal n1 = nodeToken("n1");
  EXPECT_EQ(cp_->listEvents(n1, 0, std::nullopt, 10).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(cp_->eventScope(n1, std::nullopt).status().code(), StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace berth::controlplane
