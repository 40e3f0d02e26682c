#include "controlplane/service/event_service.h"

namespace berth::controlplane {

Result<std::optional<std::string>> EventService::scope(const Principal& who,
                                                       const std::optional<std::string>& project) {
  if (who.role == Role::kAdmin) return project;
  // Only admins read across projects; a token without a project (a node's) reads none.
  if (!who.project) return permissionDenied("the event log needs an admin token or a project token");
  if (project && project != who.project) return notFound("project '" + *project + "' does not exist");
  return who.project;
}

Result<std::vector<store::Event>> EventService::list(const Principal& who, int64_t after,
                                                     const std::optional<std::string>& project, int limit) {
  BERTH_ASSIGN_OR_RETURN(auto scope, this->scope(who, project));
  std::vector<store::Event> out;
  BERTH_RETURN_IF_ERROR(ctx_.store.read([&](store::Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(out, tx.listEvents(after, scope, limit));
    return Status::ok();
  }));
  return out;
}

}  // namespace berth::controlplane
