#pragma once
// Assignments for the tests of bridged networking.

#include <string>

#include "model/node_protocol.h"

namespace berth::agent::fixtures {

// A VM of `project` with its network address.
inline model::VmSpec vmAt(const std::string& project, const std::string& name, const std::string& address) {
  model::VmSpec spec;
  spec.project = project;
  spec.name = name;
  spec.address = address;
  return spec;
}

}  // namespace berth::agent::fixtures
