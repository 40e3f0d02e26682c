#include "controlplane/service/app_service.h"

#include <gtest/gtest.h>

#include "services_fixture.h"

namespace berth::controlplane {
namespace {

class AppServiceTest : public ProjectTest {};

TEST_F(AppServiceTest, ReleasesAreNumberedImmutableAndRollBack) {
  AppSpecPatch create;
  create.command = std::vector<std::string>{"httpd", "-p", "8080"};
  ASSERT_TRUE(services_->apps.create(admin_, "a", "site", create).isOk());
  AppSpecPatch change;
  change.env = std::map<std::string, std::string>{{"MODE", "v2"}};
  auto v2 = services_->apps.update(admin_, "a", "site", change, std::nullopt);
  ASSERT_TRUE(v2.isOk());
  EXPECT_EQ(v2->release, 2);
  // The same change again makes no release.
  EXPECT_EQ(services_->apps.update(admin_, "a", "site", change, std::nullopt)->release, 2);

  auto rolled = services_->apps.rollback(admin_, "a", "site", std::nullopt, std::nullopt);
  ASSERT_TRUE(rolled.isOk());
  EXPECT_EQ(rolled->release, 3);
  EXPECT_EQ(model::appSpecFromJson(rolled->spec_json)->env.size(), 0u);
  auto history = services_->apps.listReleases(admin_, "a", "site", 0, 10);
  ASSERT_TRUE(history.isOk());
  ASSERT_EQ(history->items.size(), 3u);
  EXPECT_EQ(history->items[0].number, 3);
  EXPECT_EQ(history->items[1].spec_json, v2->spec_json);
  EXPECT_EQ(services_->apps.rollback(admin_, "a", "site", 3, std::nullopt).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(services_->apps.rollback(admin_, "a", "site", 9, std::nullopt).status().code(), StatusCode::kNotFound);
}

TEST_F(AppServiceTest, AppNeedsACommandOrImageAndAnExistingVm) {
  EXPECT_EQ(services_->apps.create(admin_, "a", "empty", {}).status().code(), StatusCode::kInvalidArgument);
  AppSpecPatch pinned;
  pinned.command = std::vector<std::string>{"x"};
  pinned.vm = "ghost";
  EXPECT_EQ(services_->apps.create(admin_, "a", "pinned", pinned).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(services_->apps.list(admin_, "a", "", 10)->items.size(), 0u);
}

}  // namespace
}  // namespace berth::controlplane
