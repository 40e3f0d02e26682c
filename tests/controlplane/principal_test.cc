#include "controlplane/auth/principal.h"

#include <gtest/gtest.h>

namespace berth::controlplane {
namespace {

Principal token(Role role, std::optional<std::string> project) { return {"tok_1", "t", role, std::move(project)}; }

TEST(AuthorizeTest, AdminMayDoEverything) {
  for (Access a : {Access::kRead, Access::kDeploy, Access::kManageTokens, Access::kAdminOnly}) {
    EXPECT_TRUE(authorize(token(Role::kAdmin, std::nullopt), "a", a, "x").isOk());
    EXPECT_TRUE(authorize(token(Role::kAdmin, std::nullopt), std::nullopt, a, "x").isOk());
  }
}

TEST(AuthorizeTest, RolesWithinTheirProject) {
  struct Case {
    Role role;
    Access access;
    bool allowed;
  };
  const Case cases[] = {
      {Role::kViewer, Access::kRead, true},         {Role::kViewer, Access::kDeploy, false},
      {Role::kViewer, Access::kManageTokens, false}, {Role::kDeployer, Access::kRead, true},
      {Role::kDeployer, Access::kDeploy, true},     {Role::kDeployer, Access::kManageTokens, false},
      {Role::kOwner, Access::kDeploy, true},        {Role::kOwner, Access::kManageTokens, true},
      {Role::kOwner, Access::kAdminOnly, false},
  };
  for (const auto& c : cases) {
    Status s = authorize(token(c.role, "a"), "a", c.access, "project 'a'");
    EXPECT_EQ(s.isOk(), c.allowed) << roleName(c.role) << " " << static_cast<int>(c.access);
    if (!c.allowed) {
      EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
    }
  }
}

TEST(AuthorizeTest, OtherProjectIsNotFoundEvenForOwners) {
  Status s = authorize(token(Role::kOwner, "b"), "a", Access::kRead, "VM 'web' in project 'a'");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "VM 'web' in project 'a' does not exist");
}

TEST(AuthorizeTest, ProjectTokensCannotChangeGlobalObjects) {
  Status s = authorize(token(Role::kOwner, "a"), std::nullopt, Access::kAdminOnly, "project 'new'");
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("admin token"), std::string::npos);
}

TEST(RoleTest, ParsesAndNames) {
  for (Role r : {Role::kAdmin, Role::kOwner, Role::kDeployer, Role::kViewer}) EXPECT_EQ(parseRole(roleName(r)), r);
  EXPECT_FALSE(parseRole("root").has_value());
}

}  // namespace
}  // namespace berth::controlplane
