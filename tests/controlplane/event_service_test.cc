#include "controlplane/service/event_service.h"

#include <gtest/gtest.h>

#include "services_fixture.h"

namespace berth::controlplane {
namespace {

class EventServiceTest : public ProjectTest {};

TEST_F(EventServiceTest, ProjectTokensSeeOnlyTheirEventsAndProjects) {
  ASSERT_TRUE(services_->projects.create(admin_, "b", {}).isOk());
  Principal viewer = tokenFor(Role::kViewer, "b");
  auto visible = services_->events.list(viewer, 0, std::nullopt, 1000);
  ASSERT_TRUE(visible.isOk());
  for (const auto& e : *visible) EXPECT_EQ(e.project, "b");
  EXPECT_EQ(services_->events.list(viewer, 0, "a", 10).status().code(), StatusCode::kNotFound);
  auto projects = services_->projects.list(viewer, "", 10);
  ASSERT_EQ(projects->items.size(), 1u);
  EXPECT_EQ(projects->items[0].project.name, "b");
}

TEST_F(EventServiceTest, NodeTokensReadNoEvents) {
  Principal n1 = principal("n1", Role::kNode, std::nullopt);
  EXPECT_EQ(services_->events.list(n1, 0, std::nullopt, 10).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(services_->events.scope(n1, std::nullopt).status().code(), StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace berth::controlplane
