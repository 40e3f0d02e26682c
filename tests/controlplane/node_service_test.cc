#include "controlplane/service/node_service.h"

#include <gtest/gtest.h>

#include "controlplane/service/host_ports.h"
#include "controlplane/service/project_overlay.h"
#include "controlplane/service/scheduler.h"
#include "services_fixture.h"

namespace berth::controlplane {
namespace {

// Project "a" with the default quotas, and a scheduler to place its VMs.
class NodesTest : public ServicesTest {
 protected:
  void SetUp() override {
    ServicesTest::SetUp();
    scheduler_ = std::make_unique<Scheduler>(*store_, clock_, SchedulerOptions{std::chrono::seconds(30)});
    ASSERT_TRUE(services_->projects.create(admin_, "a", {}).isOk());
  }

  Principal nodeToken(const std::string& name) { return principal(name, Role::kNode, std::nullopt); }

  Status registerNode(const Principal& who, const std::string& name, int64_t memory_mib,
                      const std::string& address = "") {
    store::Node n;
    n.name = name;
    n.address = address;
    n.vcpus = 4;
    n.memory_mib = memory_mib;
    n.disk_gib = 20;
    return services_->nodes.registerNode(who, n).status();
  }

  store::Vm vm(const std::string& name, int64_t memory_mib) {
    store::Vm v;
    v.project = "a";
    v.name = name;
    v.memory_mib = memory_mib;
    v.disk_gib = 1;
    EXPECT_TRUE(services_->vms.create(admin_, v).isOk());
    return services_->vms.get(admin_, "a", name).value();
  }

  // Project a's VM "web" on n1; then, n2 having more free memory, a's "db" and project b's "web"
  // (with egress `b_egress`) on n2. The nodes register with the underlay addresses given.
  void placeAcrossTwoNodes(const Principal& n1, const Principal& n2, const std::string& n1_address,
                           const std::string& n2_address, const std::string& b_egress) {
    ASSERT_TRUE(registerNode(n1, "n1", 4096, n1_address).isOk());
    vm("web", 512);
    ASSERT_TRUE(scheduler_->runOnce().isOk());
    ASSERT_TRUE(registerNode(n2, "n2", 8192, n2_address).isOk());
    clock_.advance(std::chrono::milliseconds(1));
    vm("db", 512);
    ASSERT_TRUE(services_->projects.create(admin_, "b", ProjectPatch{{}, b_egress}).isOk());
    store::Vm other;
    other.project = "b";
    other.name = "web";
    other.disk_gib = 1;
    ASSERT_TRUE(services_->vms.create(admin_, other).isOk());
    ASSERT_TRUE(scheduler_->runOnce().isOk());
    ASSERT_EQ(services_->vms.get(admin_, "a", "db")->node, "n2");
    ASSERT_EQ(services_->vms.get(admin_, "b", "web")->node, "n2");
  }

  std::unique_ptr<Scheduler> scheduler_;
};

TEST_F(NodesTest, NodeTokensActOnlyForTheirNode) {
  Principal n1 = nodeToken("n1");
  EXPECT_TRUE(registerNode(n1, "n1", 4096).isOk());
  EXPECT_EQ(registerNode(n1, "n2", 4096).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(services_->nodes.list(n1).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(services_->projects.get(n1, "a").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(services_->nodes.assignment(n1, "n2").status().code(), StatusCode::kPermissionDenied);
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
  EXPECT_EQ(services_->vms.get(admin_, "a", "one")->node, "big");
  EXPECT_EQ(services_->vms.get(admin_, "a", "two")->node, "big");
  auto huge = services_->vms.get(admin_, "a", "huge").value();
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
  ASSERT_TRUE(services_->nodes.drain(admin_, "n1").isOk());
  clock_.advance(std::chrono::seconds(31));
  ASSERT_TRUE(services_->nodes.report(admin_, "n1", {}).isOk());  // n1 heartbeats, n2 is silent
  vm("one", 512);
  ASSERT_TRUE(scheduler_->runOnce().isOk());
  auto nodes = services_->nodes.list(admin_).value();
  EXPECT_EQ(nodes[0].state, "draining");
  EXPECT_EQ(nodes[1].state, "lost");
  EXPECT_FALSE(services_->vms.get(admin_, "a", "one")->node.has_value());
  // A lost node that registers again is ready and gets the VM.
  ASSERT_TRUE(registerNode(admin_, "n2", 4096).isOk());
  ASSERT_TRUE(scheduler_->runOnce().isOk());
  EXPECT_EQ(services_->vms.get(admin_, "a", "one")->node, "n2");
}

TEST_F(NodesTest, ALostNodeThatReportsAgainIsReadyOnceWithOneEvent) {
  ASSERT_TRUE(registerNode(admin_, "n1", 4096).isOk());
  clock_.advance(std::chrono::seconds(31));
  ASSERT_TRUE(scheduler_->runOnce().isOk());
  ASSERT_EQ(services_->nodes.list(admin_).value()[0].state, "lost");
  const int64_t seq = store_->lastEventSeq();
  ASSERT_TRUE(services_->nodes.report(admin_, "n1", {}).isOk());
  ASSERT_TRUE(services_->nodes.report(admin_, "n1", {}).isOk());
  EXPECT_EQ(services_->nodes.list(admin_).value()[0].state, "ready");
  auto events = services_->events.list(admin_, seq, std::nullopt, 100).value();
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
  ASSERT_TRUE(services_->apps.create(admin_, "a", "site", unpinned).isOk());
  ASSERT_TRUE(services_->apps.create(admin_, "a", "job", pinned).isOk());
  ASSERT_TRUE(scheduler_->runOnce().isOk());

  auto assignment = services_->nodes.assignment(n1, "n1");
  ASSERT_TRUE(assignment.isOk());
  ASSERT_EQ(assignment->vms.size(), 2u);
  ASSERT_EQ(assignment->apps.size(), 2u);
  EXPECT_EQ(assignment->apps[0].vm, "worker");  // job
  EXPECT_EQ(assignment->apps[0].spec.vm, "worker");
  EXPECT_EQ(assignment->apps[1].vm, "web");  // site: first VM by name
  EXPECT_EQ(assignment->apps[1].spec.vm, "web");
  EXPECT_EQ(assignment->revision, store_->lastEventSeq());

  int64_t version = services_->vms.get(admin_, "a", "web")->version;
  ASSERT_TRUE(services_->nodes.report(n1, "n1", {{"a", "web", "running", ""}}).isOk());
  auto web = services_->vms.get(admin_, "a", "web").value();
  EXPECT_EQ(web.state, "running");
  EXPECT_EQ(web.version, version);  // observed state is not a desired-state change
  auto events = services_->events.list(admin_, 0, std::nullopt, 1000).value();
  EXPECT_EQ(events.back().action, "vm.state");
  EXPECT_EQ(services_->nodes.report(n1, "n1", {{"a", "web", "exploded", ""}}).code(), StatusCode::kInvalidArgument);
}

TEST_F(NodesTest, AssignmentCarriesEachProjectNetworkWithNamesAcrossNodes) {
  Principal n1 = nodeToken("n1"), n2 = nodeToken("n2");
  ASSERT_NO_FATAL_FAILURE(placeAcrossTwoNodes(n1, n2, "", "", "deny"));
  AppSpecPatch site;
  site.command = std::vector<std::string>{"httpd"};
  site.replicas = 2;
  ASSERT_TRUE(services_->apps.create(admin_, "a", "site", site).isOk());

  auto on_n1 = services_->nodes.assignment(n1, "n1");
  ASSERT_TRUE(on_n1.isOk()) << on_n1.status().toString();
  ASSERT_EQ(on_n1->vms.size(), 1u);
  EXPECT_EQ(on_n1->vms[0].address, "10.64.0.2");
  // Project a's names resolve on n1 for its VM on n2 too; project b is not on n1 at all.
  const std::vector<model::NetworkHost> hosts_a = {{"db.a.internal", "10.64.0.3"},
                                                   {"site.a.internal", "10.64.0.2"},
                                                   {"site.a.internal", "10.64.0.3"},
                                                   {"web.a.internal", "10.64.0.2"}};
  ASSERT_EQ(on_n1->networks.size(), 1u);
  // Neither node has an underlay address: the network has its VNI but no peers.
  EXPECT_EQ(
      on_n1->networks[0],
      (model::ProjectNetwork{"a", "10.64.0.0/24", "10.64.0.1", "allow", hosts_a, 0x0A4000, {}}));

  auto on_n2 = services_->nodes.assignment(n2, "n2");
  ASSERT_TRUE(on_n2.isOk());
  ASSERT_EQ(on_n2->networks.size(), 2u);
  EXPECT_EQ(on_n2->networks[0].hosts, hosts_a);
  EXPECT_EQ(on_n2->networks[1], (model::ProjectNetwork{"b",
                                                       "10.64.1.0/24",
                                                       "10.64.1.1",
                                                       "deny",
                                                       {{"web.b.internal", "10.64.1.2"}},
                                                       0x0A4001,
                                                       {}}));
  // The JSON an agent reads carries the same.
  auto back = model::nodeAssignmentFromJson(model::nodeAssignmentToJson(*on_n2));
  ASSERT_TRUE(back.isOk());
  EXPECT_EQ(back->networks, on_n2->networks);

  // A deleted VM's name leaves every node's view of the network.
  ASSERT_TRUE(services_->apps.remove(admin_, "a", "site", std::nullopt).isOk());
  ASSERT_TRUE(services_->vms.remove(admin_, "a", "db", std::nullopt).isOk());
  EXPECT_EQ(services_->nodes.assignment(n1, "n1")->networks[0].hosts,
            (std::vector<model::NetworkHost>{{"web.a.internal", "10.64.0.2"}}));
}

TEST_F(NodesTest, AssignmentCarriesTheOverlayPeersOfEachProject) {
  Principal n1 = nodeToken("n1"), n2 = nodeToken("n2"), n3 = nodeToken("n3");
  ASSERT_NO_FATAL_FAILURE(placeAcrossTwoNodes(n1, n2, "192.0.2.1", "192.0.2.2", "allow"));

  // n1 reaches a's VM on n2 through n2; project b has no VM on n1, so n2 has no peer for it.
  auto on_n1 = services_->nodes.assignment(n1, "n1");
  ASSERT_TRUE(on_n1.isOk()) << on_n1.status().toString();
  ASSERT_EQ(on_n1->networks.size(), 1u);
  EXPECT_EQ(on_n1->networks[0].vni, 0x0A4000);
  EXPECT_EQ(on_n1->networks[0].peers,
            (std::vector<model::NetworkPeer>{{"n2", "192.0.2.2", {{"db", "10.64.0.3"}}}}));
  auto on_n2 = services_->nodes.assignment(n2, "n2");
  ASSERT_TRUE(on_n2.isOk());
  ASSERT_EQ(on_n2->networks.size(), 2u);
  EXPECT_EQ(on_n2->networks[0].peers,
            (std::vector<model::NetworkPeer>{{"n1", "192.0.2.1", {{"web", "10.64.0.2"}}}}));
  EXPECT_EQ(on_n2->networks[1].vni, 0x0A4001);
  EXPECT_TRUE(on_n2->networks[1].peers.empty());
  auto back = model::nodeAssignmentFromJson(model::nodeAssignmentToJson(*on_n2));
  ASSERT_TRUE(back.isOk());
  EXPECT_EQ(back->networks, on_n2->networks);

  // A node that registers without an address is no peer, and has none itself.
  ASSERT_TRUE(registerNode(n2, "n2", 8192).isOk());
  EXPECT_TRUE(services_->nodes.assignment(n1, "n1")->networks[0].peers.empty());
  EXPECT_TRUE(services_->nodes.assignment(n2, "n2")->networks[0].peers.empty());
  // Nor is one whose stored address is not an IPv4 (an agent before overlays may have sent one).
  ASSERT_TRUE(registerNode(n2, "n2", 8192, "node-2.example:7070").isOk());
  EXPECT_TRUE(services_->nodes.assignment(n1, "n1")->networks[0].peers.empty());
  // A third node without VMs of the project is no peer either.
  ASSERT_TRUE(registerNode(n2, "n2", 8192, "192.0.2.2").isOk());
  ASSERT_TRUE(registerNode(n3, "n3", 1024, "192.0.2.3").isOk());
  EXPECT_EQ(services_->nodes.assignment(n1, "n1")->networks[0].peers.size(), 1u);
}

TEST(OverlayVniTest, IsTheSubnetsFirstSlash24BlockAndNoneBelowASlash24) {
  EXPECT_EQ(overlayVni("10.64.0.0/24"), 0x0A4000);
  EXPECT_EQ(overlayVni("10.64.3.0/24"), 0x0A4003);
  EXPECT_EQ(overlayVni("172.16.0.0/16"), 0xAC1000);
  EXPECT_EQ(overlayVni("10.64.3.128/25"), 0);
  EXPECT_EQ(overlayVni("not a subnet"), 0);
}

TEST_F(NodesTest, WhereTwoAppsPublishedOnePortBeforeClaimsOnlyItsHolderIsAssignedIt) {
  Principal n1 = nodeToken("n1");
  ASSERT_TRUE(registerNode(n1, "n1", 4096).isOk());
  vm("web", 512);
  ASSERT_TRUE(scheduler_->runOnce().isOk());
  // Written as a berthd before claims would have: straight into the store.
  for (const auto& [name, created_at] : {std::pair{"old", 1}, std::pair{"new", 2}}) {
    model::AppSpec spec;
    spec.command = {"httpd"};
    spec.vm = "web";
    spec.ports = {{8080, "tcp", 18080}, {9090, "tcp", std::string(name) == "new" ? 19090 : 0}};
    store::App app;
    app.project = "a";
    app.name = name;
    app.spec_json = model::appSpecToJson(spec).dump();
    app.release = app.version = 1;
    app.created_at = created_at;
    ASSERT_TRUE(store_->write([&](store::Tx& tx) { return tx.insertApp(app); }).isOk());
  }
  ASSERT_EQ(claimPublishedHostPorts(*store_, 3)->size(), 1u);

  auto assignment = services_->nodes.assignment(n1, "n1");
  ASSERT_TRUE(assignment.isOk()) << assignment.status().toString();
  std::map<std::string, std::vector<int64_t>> published;
  for (const auto& instance : assignment->apps) {
    for (const auto& p : instance.spec.ports) published[instance.name].push_back(p.host_port);
  }
  EXPECT_EQ(published["old"], (std::vector<int64_t>{18080, 0}));
  EXPECT_EQ(published["new"], (std::vector<int64_t>{0, 19090}));
}

// One VM, one app with two releases: r1 ran; the agent then reports on `release`.
class RolloutOutcomeTest : public NodesTest {
 protected:
  void SetUp() override {
    NodesTest::SetUp();
    n1_ = nodeToken("n1");
    ASSERT_TRUE(registerNode(n1_, "n1", 4096).isOk());
    vm("web", 512);
    ASSERT_TRUE(scheduler_->runOnce().isOk());
    AppSpecPatch v1;
    v1.command = std::vector<std::string>{"httpd", "-p", "$(PORT)"};
    v1.ports = std::vector<model::PortSpec>{{8080, "tcp", 0}};
    v1.health = model::HealthSpec{"http", "/", {}, 1000, 1000, 1000, 2};
    ASSERT_TRUE(services_->apps.create(admin_, "a", "site", v1).isOk());
    ASSERT_TRUE(report(1, "running").isOk());
  }

  Status report(int64_t release, const std::string& state, int64_t serving = 0) {
    model::AppObservation o{"a", "site", release, state, state == "failed" ? "health check failed: HTTP 500" : "", serving, "web"};
    return services_->nodes.report(n1_, "n1", {}, {o});
  }

  store::Release release(int64_t number) {
    auto page = services_->apps.listReleases(admin_, "a", "site", number + 1, 1).value();
    EXPECT_EQ(page.items.size(), 1u);
    return page.items.at(0);
  }

  void deploy(const std::string& env) {
    AppSpecPatch change;
    change.env = std::map<std::string, std::string>{{"V", env}};
    ASSERT_TRUE(services_->apps.update(admin_, "a", "site", change, std::nullopt).isOk());
  }

  Principal n1_;
};

TEST_F(RolloutOutcomeTest, AFailedReleaseIsRecordedAndRolledBackToTheOneStillServing) {
  EXPECT_EQ(release(1).state, "running");
  deploy("2");
  ASSERT_TRUE(report(2, "failed", 1).isOk());
  auto app = services_->apps.get(admin_, "a", "site").value();
  EXPECT_EQ(app.release, 3);
  EXPECT_EQ(release(2).state, "failed");
  EXPECT_EQ(release(2).detail, "health check failed: HTTP 500");
  const store::Release rollback = release(3);
  EXPECT_EQ(rollback.rollback_of, 1);
  EXPECT_TRUE(rollback.automatic);
  EXPECT_EQ(rollback.spec_json, release(1).spec_json);
  auto events = services_->events.list(admin_, 0, std::nullopt, 1000).value();
  EXPECT_EQ(events.back().action, "app.rollback");
  EXPECT_NE(events.back().details_json.find("\"automatic\":true"), std::string::npos) << events.back().details_json;
  EXPECT_NE(events.back().details_json.find("\"failed_release\":2"), std::string::npos) << events.back().details_json;
  // The same report again changes nothing: one rollback only.
  ASSERT_TRUE(report(2, "failed", 1).isOk());
  EXPECT_EQ(services_->apps.get(admin_, "a", "site")->release, 3);
}

TEST_F(RolloutOutcomeTest, WithoutAServingReleaseTheNewestThatRanIsRestored) {
  deploy("2");
  ASSERT_TRUE(report(2, "running").isOk());
  deploy("3");
  ASSERT_TRUE(report(3, "failed").isOk());  // stop-first: nothing kept serving
  EXPECT_EQ(release(4).rollback_of, 2);
}

TEST_F(RolloutOutcomeTest, AFailedAutomaticRollbackIsNotRolledBackAgain) {
  deploy("2");
  ASSERT_TRUE(report(2, "failed").isOk());
  ASSERT_EQ(services_->apps.get(admin_, "a", "site")->release, 3);
  ASSERT_TRUE(report(3, "failed").isOk());
  EXPECT_EQ(services_->apps.get(admin_, "a", "site")->release, 3);
  EXPECT_EQ(release(3).state, "failed");
}

TEST_F(RolloutOutcomeTest, NoRollbackToAReleaseWhoseHostPortAnotherAppTookMeanwhile) {
  AppSpecPatch published;
  published.ports = std::vector<model::PortSpec>{{8080, "tcp", 9000}};
  ASSERT_TRUE(services_->apps.update(admin_, "a", "site", published, std::nullopt).isOk());
  ASSERT_TRUE(report(2, "running").isOk());
  published.ports = std::vector<model::PortSpec>{{8080, "tcp", 9001}};
  ASSERT_TRUE(services_->apps.update(admin_, "a", "site", published, std::nullopt).isOk());
  AppSpecPatch other;
  other.command = std::vector<std::string>{"x"};
  other.vm = "web";
  other.ports = std::vector<model::PortSpec>{{80, "tcp", 9000}};
  ASSERT_TRUE(services_->apps.create(admin_, "a", "other", other).isOk());

  // The report is taken, the failure recorded, and release 3 stays: 9000 is no longer the app's.
  ASSERT_TRUE(report(3, "failed", 2).isOk());
  EXPECT_EQ(services_->apps.get(admin_, "a", "site")->release, 3);
  EXPECT_EQ(release(3).state, "failed");

  auto held = [&] {
    std::vector<int64_t> ports;
    EXPECT_TRUE(store_->read([&](store::Tx& tx) {
      BERTH_ASSIGN_OR_RETURN(auto claims, tx.listHostPortClaims("a", "site"));
      for (const auto& c : claims) ports.push_back(c.port);
      return Status::ok();
    }).isOk());
    return ports;
  };
  EXPECT_EQ(held(), std::vector<int64_t>{9001});

  // Once the port is free again, a rollback asked for takes it back.
  ASSERT_TRUE(services_->apps.remove(admin_, "a", "other", std::nullopt).isOk());
  ASSERT_EQ(services_->apps.rollback(admin_, "a", "site", 2, std::nullopt)->release, 4);
  EXPECT_EQ(held(), std::vector<int64_t>{9000});
}

TEST_F(RolloutOutcomeTest, AnOlderReleaseFailingOrAFirstReleaseFailingMakesNoRollback) {
  deploy("2");
  deploy("3");
  ASSERT_TRUE(report(2, "failed", 1).isOk());  // superseded by 3 already
  EXPECT_EQ(services_->apps.get(admin_, "a", "site")->release, 3);
  EXPECT_EQ(release(2).state, "failed");

  AppSpecPatch fresh;
  fresh.command = std::vector<std::string>{"x"};
  ASSERT_TRUE(services_->apps.create(admin_, "a", "fresh", fresh).isOk());
  model::AppObservation o{"a", "fresh", 1, "failed", "cannot start 'x'", 0, "web"};
  ASSERT_TRUE(services_->nodes.report(n1_, "n1", {}, {o}).isOk());
  EXPECT_EQ(services_->apps.get(admin_, "a", "fresh")->release, 1);
}

}  // namespace
}  // namespace berth::controlplane
