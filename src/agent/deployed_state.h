#pragma once
// apps.json (Paths::Vm::appsState): what the agent last deployed into a VM, so that a restarted
// agent that adopts the VM knows its serving instances and where it reaches their ports again.

#include <map>
#include <string>
#include <string_view>

#include "agent/instance.h"
#include "common/status.h"

namespace berth::agent {

struct DeployedState {
  std::map<std::string, Instance> serving;  // app -> the instance taking its traffic
  std::map<int, std::string> forwards;      // guest port -> where the node reaches it (VmNetwork::exposePort)
  bool operator==(const DeployedState&) const = default;
};

std::string deployedStateToJson(const DeployedState& state);
// What of `text` is readable: a torn or foreign file yields what it can (possibly nothing),
// and the guest's hello then corrects it.
DeployedState deployedStateFromJson(std::string_view text);

// Written atomically: a crash leaves the old record or the new one.
Status saveDeployedState(const std::string& path, const DeployedState& state);
// Nothing recorded (no file) is an empty state.
DeployedState loadDeployedState(const std::string& path);

}  // namespace berth::agent
