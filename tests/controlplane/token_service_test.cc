#include "controlplane/service/token_service.h"

#include <gtest/gtest.h>

#include "services_fixture.h"

namespace berth::controlplane {
namespace {

class TokenServiceTest : public ProjectTest {};

TEST_F(TokenServiceTest, BootstrapCreatesTheAdminTokenOnlyOnce) {
  auto again = services_->tokens.bootstrapAdminToken();
  ASSERT_TRUE(again.isOk());
  EXPECT_FALSE(again->has_value());
  EXPECT_EQ(admin_.role, Role::kAdmin);
}

TEST_F(TokenServiceTest, UnknownAndRevokedTokensAreUnauthenticated) {
  EXPECT_EQ(services_->tokens.authenticate("berth_nope").status().code(), StatusCode::kUnauthenticated);
  auto t = services_->tokens.create(admin_, "ci", Role::kDeployer, "a");
  ASSERT_TRUE(t.isOk());
  EXPECT_EQ(t->secret.size(), 6u + 64u);
  EXPECT_NE(t->token.hash, t->secret);
  ASSERT_TRUE(services_->tokens.authenticate(t->secret).isOk());
  ASSERT_TRUE(services_->tokens.remove(admin_, t->token.id).isOk());
  EXPECT_EQ(services_->tokens.authenticate(t->secret).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(TokenServiceTest, OwnersManageOnlyTheirProjectsNonAdminTokens) {
  Principal owner = tokenFor(Role::kOwner, "a");
  EXPECT_TRUE(services_->tokens.create(owner, "dep", Role::kDeployer, "a").isOk());
  EXPECT_EQ(services_->tokens.create(owner, "root", Role::kAdmin, std::nullopt).status().code(),
            StatusCode::kPermissionDenied);
  ASSERT_TRUE(services_->projects.create(admin_, "b", {}).isOk());
  EXPECT_EQ(services_->tokens.create(owner, "x", Role::kViewer, "b").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(services_->tokens.create(admin_, "x", Role::kViewer, std::nullopt).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(TokenServiceTest, DeletingAProjectRevokesItsCachedTokensAtOnce) {
  ASSERT_TRUE(services_->projects.create(admin_, "gone", {}).isOk());
  auto t = services_->tokens.create(admin_, "v", Role::kViewer, "gone");
  ASSERT_TRUE(t.isOk());
  ASSERT_TRUE(services_->tokens.authenticate(t->secret).isOk());  // now cached
  ASSERT_TRUE(services_->tokens.authenticate(t->secret).isOk());
  ASSERT_TRUE(services_->projects.remove(admin_, "gone", std::nullopt).isOk());
  EXPECT_EQ(services_->tokens.authenticate(t->secret).status().code(), StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace berth::controlplane
