#include "agent/deployed_state.h"

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "os/file_util.h"

namespace berth::agent {

using nlohmann::json;

std::string deployedStateToJson(const DeployedState& state) {
  json serving = json::object(), forwards = json::object();
  for (const auto& [name, i] : state.serving) {
    serving[name] = {{"id", i.id}, {"release", i.release}, {"spec", i.spec}, {"slot", i.slot}, {"health", i.health}};
  }
  for (const auto& [guest, host] : state.forwards) forwards[std::to_string(guest)] = host;
  return json{{"serving", serving}, {"forwards", forwards}}.dump();
}

DeployedState deployedStateFromJson(std::string_view text) {
  DeployedState state;
  const json saved = json::parse(text, nullptr, false);
  if (!saved.is_object()) return state;
  const json serving = saved.value("serving", json::object()), forwards = saved.value("forwards", json::object());
  if (serving.is_object()) {
    for (const auto& [name, i] : serving.items()) {
      if (!i.is_object()) continue;
      state.serving[name] = Instance{i.value("id", ""), i.value("release", int64_t{0}), i.value("spec", ""),
                                     i.value("slot", 0), i.value("health", ""), ""};
    }
  }
  if (forwards.is_object()) {
    for (const auto& [guest, host] : forwards.items()) {
      const int port = std::atoi(guest.c_str());
      if (host.is_string()) state.forwards[port] = host.get<std::string>();
      // Agents before bridged networks recorded the node's 127.0.0.1 port alone.
      if (host.is_number_integer()) state.forwards[port] = "127.0.0.1:" + std::to_string(host.get<int>());
    }
  }
  return state;
}

Status saveDeployedState(const std::string& path, const DeployedState& state) {
  return os::writeFileAtomic(path, deployedStateToJson(state));
}

DeployedState loadDeployedState(const std::string& path) {
  auto text = os::readFile(path);
  return text.isOk() ? deployedStateFromJson(*text) : DeployedState{};
}

}  // namespace berth::agent
