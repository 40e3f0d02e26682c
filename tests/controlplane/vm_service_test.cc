#include "controlplane/service/vm_service.h"

#include <gtest/gtest.h>

#include "services_fixture.h"

namespace berth::controlplane {
namespace {

class VmServiceTest : public ProjectTest {};

TEST_F(VmServiceTest, VmQuotaNamesTheLimitAndTheExcess) {
  ASSERT_TRUE(vm("one", 3).isOk());
  auto over = vm("two", 2);
  ASSERT_EQ(over.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(over.status().message(), "quota exceeded in project 'a': vcpus would be 5 of a quota of 4 (over by 1)");
  auto update = services_->vms.update(admin_, "a", "one", VmPatch{5, {}, {}, {}, {}}, std::nullopt);
  EXPECT_EQ(update.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(services_->projects.get(admin_, "a")->usage.vcpus, 3);
}

TEST_F(VmServiceTest, StaleIfMatchChangesNothing) {
  ASSERT_TRUE(vm("one", 1).isOk());
  auto stale = services_->vms.power(admin_, "a", "one", PowerAction::kStop, 7);
  EXPECT_EQ(stale.status().code(), StatusCode::kVersionMismatch);
  EXPECT_EQ(services_->vms.get(admin_, "a", "one")->power, "running");
  auto ok = services_->vms.power(admin_, "a", "one", PowerAction::kStop, 1);
  ASSERT_TRUE(ok.isOk());
  EXPECT_EQ(ok->power, "stopped");
  EXPECT_EQ(ok->version, 2);
}

TEST_F(VmServiceTest, EveryMutationIsOneEventWithItsActor) {
  Principal deployer = tokenFor(Role::kDeployer, "a");
  size_t before = events().size();
  ASSERT_TRUE(vm("one", 1, &deployer).isOk());
  ASSERT_TRUE(services_->vms.power(deployer, "a", "one", PowerAction::kRestart, std::nullopt).isOk());
  EXPECT_FALSE(vm("two", 100, &deployer).isOk());  // refused: no event
  auto all = events();
  ASSERT_EQ(all.size(), before + 2);
  EXPECT_EQ(all[before].action, "vm.create");
  EXPECT_EQ(all[before].actor, deployer.token_id);
  EXPECT_EQ(all[before + 1].action, "vm.restart");
  EXPECT_EQ(all[before + 1].object, "projects/a/vms/one");
}

TEST_F(VmServiceTest, RestartBumpsTheGeneration) {
  ASSERT_TRUE(vm("web", 1).isOk());
  auto restarted = services_->vms.power(admin_, "a", "web", PowerAction::kRestart, std::nullopt);
  ASSERT_TRUE(restarted.isOk());
  EXPECT_EQ(restarted->restart_generation, 1);
  EXPECT_EQ(restarted->power, "running");
}

}  // namespace
}  // namespace berth::controlplane
