// Project subnets and VM addresses as the services allocate them: in the creating transaction,
// stored, freed with their owner, and given at startup to what was made before networks.

#include "controlplane/service/project_network.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "services_fixture.h"

namespace berth::controlplane {
namespace {

using ::testing::HasSubstr;

class ProjectNetworkTest : public ServicesTest {
 protected:
  Result<ProjectView> project(const std::string& name, std::optional<std::string> egress = std::nullopt) {
    return services_->projects.create(admin_, name, ProjectPatch{QuotaPatch{64, 65536, 1000, 64}, egress});
  }
  Result<store::Vm> vm(const std::string& project, const std::string& name) {
    store::Vm v;
    v.project = project;
    v.name = name;
    v.memory_mib = 256;
    v.disk_gib = 1;
    return services_->vms.create(admin_, v);
  }
  // Replaces the services with ones allocating from `pool` (the store and its tokens stay).
  void usePool(const std::string& pool, int prefix = 24) {
    services_ = std::make_unique<Services>(*store_, clock_, NetworkPool::create(pool, prefix).value());
  }
};

TEST_F(ProjectNetworkTest, ProjectsGetTheLowestFreeSubnetAndKeepIt) {
  ASSERT_EQ(project("a")->project.subnet, "10.64.0.0/24");
  ASSERT_EQ(project("b", "deny")->project.subnet, "10.64.1.0/24");
  EXPECT_EQ(services_->projects.get(admin_, "b")->project.egress, "deny");
  EXPECT_EQ(services_->projects.get(admin_, "a")->project.egress, "allow");
  ASSERT_TRUE(services_->projects.remove(admin_, "a", std::nullopt).isOk());
  EXPECT_EQ(project("c")->project.subnet, "10.64.0.0/24");  // the freed one
  // Another pool later moves nobody; new projects come from it.
  usePool("172.20.0.0/16", 26);
  EXPECT_EQ(services_->projects.get(admin_, "b")->project.subnet, "10.64.1.0/24");
  EXPECT_EQ(project("d")->project.subnet, "172.20.0.0/26");
  auto created = events();
  EXPECT_EQ(created.back().action, "project.create");
  EXPECT_THAT(created.back().details_json, HasSubstr("\"subnet\":\"172.20.0.0/26\""));
}

TEST_F(ProjectNetworkTest, AFullPoolRefusesANewProjectAndSaysWhatToDo) {
  usePool("10.64.0.0/23");
  ASSERT_TRUE(project("a").isOk());
  ASSERT_TRUE(project("b").isOk());
  const size_t before = events().size();
  auto full = project("c");
  EXPECT_EQ(full.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(full.status().message(), HasSubstr("the project network pool 10.64.0.0/23 is full"));
  EXPECT_EQ(services_->projects.get(admin_, "c").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(events().size(), before);
  // An existing name is still "already exists", not "full".
  EXPECT_EQ(project("a").status().code(), StatusCode::kAlreadyExists);
}

TEST_F(ProjectNetworkTest, EgressIsAnAuditedProjectSetting) {
  ASSERT_TRUE(project("a").isOk());
  auto denied = services_->projects.update(admin_, "a", ProjectPatch{{}, "deny"}, std::nullopt);
  ASSERT_TRUE(denied.isOk()) << denied.status().toString();
  EXPECT_EQ(denied->project.egress, "deny");
  EXPECT_EQ(denied->project.subnet, "10.64.0.0/24");
  EXPECT_EQ(events().back().action, "project.update");
  EXPECT_THAT(events().back().details_json, HasSubstr("\"egress\":\"deny\""));
  // Owners run their project but the operator decides what leaves it.
  Principal owner = principal("owner", Role::kOwner, "a");
  EXPECT_EQ(services_->projects.update(owner, "a", ProjectPatch{{}, "allow"}, std::nullopt).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(services_->projects.get(admin_, "a")->project.egress, "deny");
}

TEST_F(ProjectNetworkTest, VmsGetTheLowestFreeAddressFreedOnDelete) {
  ASSERT_TRUE(project("a").isOk());
  ASSERT_TRUE(project("b").isOk());
  EXPECT_EQ(vm("a", "one")->address, "10.64.0.2");
  EXPECT_EQ(vm("a", "two")->address, "10.64.0.3");
  EXPECT_EQ(vm("b", "one")->address, "10.64.1.2");
  EXPECT_EQ(services_->vms.get(admin_, "a", "two")->address, "10.64.0.3");
  EXPECT_THAT(events().back().details_json, HasSubstr("\"address\":\"10.64.1.2\""));
  ASSERT_TRUE(services_->vms.remove(admin_, "a", "one", std::nullopt).isOk());
  EXPECT_EQ(vm("a", "three")->address, "10.64.0.2");
  EXPECT_EQ(vm("a", "two").status().code(), StatusCode::kAlreadyExists);
}

TEST_F(ProjectNetworkTest, VmsMadeForAnAppsReplicasGetAddressesOfTheirOwn) {
  ASSERT_TRUE(project("a").isOk());
  ASSERT_TRUE(vm("a", "first").isOk());
  AppSpecPatch web;
  web.command = std::vector<std::string>{"httpd", "-p", "8080"};
  web.replicas = 3;
  ASSERT_TRUE(services_->apps.create(admin_, "a", "web", web).isOk());
  std::set<std::string> addresses;
  for (const char* name : {"first", "web-1", "web-2"}) {
    auto made = services_->vms.get(admin_, "a", name);
    ASSERT_TRUE(made.isOk()) << name;
    EXPECT_FALSE(made->address.empty()) << name;
    addresses.insert(made->address);
  }
  EXPECT_EQ(addresses, (std::set<std::string>{"10.64.0.2", "10.64.0.3", "10.64.0.4"}));
}

TEST_F(ProjectNetworkTest, AFullSubnetRefusesANewVm) {
  usePool("10.64.0.0/16", 29);  // .2 to .6: five VMs
  ASSERT_TRUE(project("a").isOk());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(vm("a", "vm" + std::to_string(i)).isOk());
  auto full = vm("a", "vm5");
  EXPECT_EQ(full.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(full.status().message(), HasSubstr("project a's network 10.64.0.0/29 has no free address"));
  EXPECT_EQ(services_->vms.get(admin_, "a", "vm5").status().code(), StatusCode::kNotFound);
}

TEST_F(ProjectNetworkTest, ConcurrentCreatesNeverShareAnAddressOrASubnet) {
  constexpr int kThreads = 8, kEach = 4;
  ASSERT_TRUE(project("a").isOk());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if (!vm("a", "t" + std::to_string(t) + "-" + std::to_string(i)).isOk()) ++failures;
      }
      if (!project("p" + std::to_string(t)).isOk()) ++failures;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, 0);
  auto vms = services_->vms.list(admin_, "a", "", 100).value();
  std::set<std::string> addresses;
  for (const auto& v : vms.items) addresses.insert(v.address);
  EXPECT_EQ(addresses.size(), size_t{kThreads * kEach});
  EXPECT_TRUE(addresses.count("10.64.0.2") && addresses.count("10.64.0.33"));
  auto projects = services_->projects.list(admin_, "", 100).value();
  std::set<std::string> subnets;
  for (const auto& p : projects.items) subnets.insert(p.project.subnet);
  EXPECT_EQ(subnets.size(), size_t{kThreads + 1});
}

// What a berthd from before networks left: projects without subnets, VMs without addresses.
class LegacyNetworkTest : public ProjectNetworkTest {
 protected:
  void SetUp() override {
    ProjectNetworkTest::SetUp();
    ASSERT_TRUE(store_->write([&](store::Tx& tx) {
      for (const char* name : {"old", "older"}) {
        store::Project p;
        p.name = name;
        p.version = 1;
        BERTH_RETURN_IF_ERROR(tx.insertProject(p));
      }
      for (const char* name : {"db", "web"}) {
        store::Vm v;
        v.project = "old";
        v.name = name;
        v.version = 1;
        v.created_at = name[0] == 'w' ? 1 : 2;  // web is the older
        BERTH_RETURN_IF_ERROR(tx.insertVm(v));
      }
      return Status::ok();
    }).isOk());
  }
  Principal system_{"system", "berthd", Role::kAdmin, std::nullopt};
};

TEST_F(LegacyNetworkTest, StartupGivesThemNetworksOnceWithAnEvent) {
  ASSERT_TRUE(project("new").isOk());  // allocated around the legacy ones
  EXPECT_EQ(services_->projects.get(admin_, "new")->project.subnet, "10.64.0.0/24");
  ASSERT_TRUE(services_->projects.allocateMissingNetworks(system_).isOk());
  EXPECT_EQ(services_->projects.get(admin_, "old")->project.subnet, "10.64.1.0/24");
  EXPECT_EQ(services_->projects.get(admin_, "older")->project.subnet, "10.64.2.0/24");
  EXPECT_EQ(services_->vms.get(admin_, "old", "web")->address, "10.64.1.2");
  EXPECT_EQ(services_->vms.get(admin_, "old", "db")->address, "10.64.1.3");
  auto all = events();
  ASSERT_GE(all.size(), 2u);
  EXPECT_EQ(all[all.size() - 2].action, "project.network");
  EXPECT_THAT(all[all.size() - 2].details_json, HasSubstr("\"addressed_vms\":[\"web\",\"db\"]"));
  EXPECT_EQ(all.back().object, "projects/older");
  // A second start changes nothing.
  const int64_t seq = store_->lastEventSeq();
  ASSERT_TRUE(services_->projects.allocateMissingNetworks(system_).isOk());
  EXPECT_EQ(store_->lastEventSeq(), seq);
}

TEST_F(LegacyNetworkTest, AFullPoolAtStartupLeavesThemForTheirNextVm) {
  usePool("10.64.0.0/24");
  Status s = services_->projects.allocateMissingNetworks(system_);
  EXPECT_THAT(s.message(), HasSubstr("is full"));
  EXPECT_EQ(services_->projects.get(admin_, "old")->project.subnet, "10.64.0.0/24");
  EXPECT_EQ(services_->projects.get(admin_, "older")->project.subnet, "");
  // Once room is made, the project's next VM brings its network.
  ASSERT_TRUE(services_->vms.remove(admin_, "old", "db", std::nullopt).isOk());
  ASSERT_TRUE(services_->vms.remove(admin_, "old", "web", std::nullopt).isOk());
  ASSERT_TRUE(services_->projects.remove(admin_, "old", std::nullopt).isOk());
  auto created = vm("older", "first");
  ASSERT_TRUE(created.isOk()) << created.status().toString();
  EXPECT_EQ(created->address, "10.64.0.2");
  EXPECT_EQ(services_->projects.get(admin_, "older")->project.subnet, "10.64.0.0/24");
  auto all = events();
  EXPECT_EQ(all[all.size() - 2].action, "project.network");
  EXPECT_EQ(all.back().action, "vm.create");
}

}  // namespace
}  // namespace berth::controlplane
