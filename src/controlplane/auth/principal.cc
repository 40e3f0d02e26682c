#include "controlplane/auth/principal.h"

namespace berth::controlplane {

std::string roleName(Role role) {
  switch (role) {
    case Role::kAdmin: return "admin";
    case Role::kOwner: return "owner";
    case Role::kDeployer: return "deployer";
    case Role::kViewer: return "viewer";
    case Role::kNode: return "node";
  }
  return "viewer";
}

std::optional<Role> parseRole(const std::string& name) {
  if (name == "admin") return Role::kAdmin;
  if (name == "owner") return Role::kOwner;
  if (name == "deployer") return Role::kDeployer;
  if (name == "viewer") return Role::kViewer;
  if (name == "node") return Role::kNode;
  return std::nullopt;
}

namespace {
int rank(Role role) {
  switch (role) {
    case Role::kViewer:
    case Role::kNode: return 0;
    case Role::kDeployer: return 1;
    case Role::kOwner: return 2;
    case Role::kAdmin: return 3;
  }
  return 0;
}

int requiredRank(Access access) {
  switch (access) {
    case Access::kRead: return 0;
    case Access::kDeploy: return 1;
    case Access::kManageTokens: return 2;
    case Access::kAdminOnly: return 3;
  }
  return 3;
}
}  // namespace

Status authorize(const Principal& who, const std::optional<std::string>& project, Access access,
                 const std::string& object) {
  if (who.role == Role::kAdmin) return Status::ok();
  if (project && who.project != project) return notFound(object + " does not exist");
  if (!project && access != Access::kRead) {
    return permissionDenied("a " + roleName(who.role) + " token of project '" + who.project.value_or("") +
                            "' cannot change global objects; this needs an admin token");
  }
  if (rank(who.role) < requiredRank(access)) {
    static const char* kNeeds[] = {"viewer", "deployer", "owner", "admin"};
    return permissionDenied("the " + roleName(who.role) + " role cannot do this; it needs the " +
                            kNeeds[requiredRank(access)] + " role");
  }
  return Status::ok();
}

Status authorizeNode(const Principal& who, const std::string& node) {
  if (who.role == Role::kAdmin || (who.role == Role::kNode && who.token_name == node)) return Status::ok();
  if (who.role == Role::kNode) return permissionDenied("node token '" + who.token_name + "' cannot act for node '" + node + "'");
  return permissionDenied("nodes are managed with an admin token");
}

}  // namespace berth::controlplane
