#pragma once
// Who is calling, and what their role lets them do. Pure logic over the token's role.

#include <optional>
#include <string>

#include "common/status.h"

namespace berth::controlplane {

// kNode: a berth-agent; its token's name is the node's name, and it may act only on that node.
enum class Role { kAdmin, kOwner, kDeployer, kViewer, kNode };

// What a request does to a project's objects.
enum class Access {
  kRead,          // GET of anything in the project
  kDeploy,        // create/change/delete VMs and apps, power, rollback
  kManageTokens,  // tokens of the project
  kAdminOnly,     // projects themselves, admin tokens, nodes
};

struct Principal {
  std::string token_id;
  std::string token_name;
  Role role = Role::kViewer;
  std::optional<std::string> project;  // empty for admin
};

std::string roleName(Role role);
// Parses "admin", "owner", "deployer", "viewer", "node".
std::optional<Role> parseRole(const std::string& name);

// Decides whether `who` may do `access` on `project` (empty project = global objects).
// A project token asking about another project gets NotFound naming `object`, so it cannot
// learn that the project exists; a role too weak for the action gets PermissionDenied.
Status authorize(const Principal& who, const std::optional<std::string>& project, Access access,
                 const std::string& object);
// Admin, or the agent of `node` itself.
Status authorizeNode(const Principal& who, const std::string& node);

}  // namespace berth::controlplane
