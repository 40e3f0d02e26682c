#include "controlplane/service/control_plane.h"

namespace berth::controlplane {

store::Event ControlPlane::event(const Principal& who, std::string action, std::optional<std::string> project,
                                 std::string object, nlohmann::json details) const {
  store::Event e;
  e.time = clock_.wallMillis();
  e.actor = who.token_id;
  e.action = std::move(action);
  e.project = std::move(project);
  e.object = std::move(object);
  e.details_json = details.dump();
  return e;
}

Status checkVersion(std::optional<int64_t> if_match, int64_t current, const std::string& object) {
  if (if_match && *if_match != current) {
    return versionMismatch(object + " is at version " + std::to_string(current) + ", not " +
                           std::to_string(*if_match) + "; fetch it again and retry");
  }
  return Status::ok();
}

Result<std::optional<std::string>> ControlPlane::eventScope(const Principal& who,
                                                            const std::optional<std::string>& project) {
  if (who.role == Role::kAdmin) return project;
  // Only admins read across projects; a token without a project (a node's) reads none.
  if (!who.project) return permissionDenied("the event log needs an admin token or a project token");
  if (project && project != who.project) return notFound("project '" + *project + "' does not exist");
  return who.project;
}

Result<std::vector<store::Event>> ControlPlane::listEvents(const Principal& who, int64_t after,
                                                           const std::optional<std::string>& project, int limit) {
  BERTH_ASSIGN_OR_RETURN(auto scope, eventScope(who, project));
  std::vector<store::Event> out;
  BERTH_RETURN_IF_ERROR(store_.read([&](store::Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(out, tx.listEvents(after, scope, limit));
    return Status::ok();
  }));
  return out;
}

}  // namespace berth::controlplane
