#include "controlplane/service/project_service.h"

#include <gtest/gtest.h>

#include "services_fixture.h"

namespace berth::controlplane {
namespace {

class ProjectServiceTest : public ProjectTest {};

TEST_F(ProjectServiceTest, QuotaCannotDropBelowUsage) {
  ASSERT_TRUE(vm("one", 3).isOk());
  auto r = services_->projects.update(admin_, "a", ProjectPatch{QuotaPatch{2, {}, {}, {}}, {}}, std::nullopt);
  ASSERT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("already uses 3"), std::string::npos);
}

TEST_F(ProjectServiceTest, ProjectWithVmsCannotBeDeleted) {
  ASSERT_TRUE(vm("one", 1).isOk());
  EXPECT_EQ(services_->projects.remove(admin_, "a", std::nullopt).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(services_->vms.remove(admin_, "a", "one", std::nullopt).isOk());
  EXPECT_TRUE(services_->projects.remove(admin_, "a", std::nullopt).isOk());
}

}  // namespace
}  // namespace berth::controlplane
