#include "agent/runtime/runtime_registry.h"

namespace berth::agent {

Status RuntimeRegistry::add(std::unique_ptr<Runtime> runtime) {
  const std::string name = runtime->name();
  if (!runtimes_.emplace(name, std::move(runtime)).second) {
    return alreadyExists("runtime '" + name + "' is registered twice");
  }
  return Status::ok();
}

Result<Runtime*> RuntimeRegistry::find(const std::string& name) const {
  if (auto it = runtimes_.find(name); it != runtimes_.end()) return it->second.get();
  std::string offered;
  for (const std::string& n : names()) offered += (offered.empty() ? "" : ", ") + n;
  return failedPrecondition("runtime '" + name + "' is not available on node " + node_name_ +
                            "; it has: " + (offered.empty() ? "none" : offered));
}

std::vector<std::string> RuntimeRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, runtime] : runtimes_) out.push_back(name);
  return out;
}

}  // namespace berth::agent
