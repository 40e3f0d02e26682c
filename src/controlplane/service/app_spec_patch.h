#pragma once
// A create or PATCH request's changes to an app's spec (model/app_spec.h).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/app_spec.h"

namespace berth::controlplane {

// The fields of a create or PATCH request; absent fields keep their current value.
struct AppSpecPatch {
  std::optional<std::string> kind;
  std::optional<std::string> image;
  std::optional<std::vector<std::string>> command;
  std::optional<std::map<std::string, std::string>> env;
  std::optional<std::vector<model::PortSpec>> ports;
  std::optional<int64_t> replicas;
  std::optional<std::string> vm;
  std::optional<std::vector<model::SecretRef>> secrets;  // versions 0: the newest are taken
  std::optional<model::Resources> resources;
  std::optional<std::string> restart;
  std::optional<model::HealthSpec> health;  // type "" removes the check
};

model::AppSpec applyPatch(model::AppSpec spec, const AppSpecPatch& patch);

}  // namespace berth::controlplane
