#include "controlplane/service/service_context.h"

namespace berth::controlplane {

store::Event ServiceContext::event(const Principal& who, std::string action, std::optional<std::string> project,
                                   std::string object, nlohmann::json details) const {
  store::Event e;
  e.time = clock.wallMillis();
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

}  // namespace berth::controlplane
