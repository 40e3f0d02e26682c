#pragma once
// The runtimes this node offers, by the name a VM asks for (model::VmSpec::runtime). A VM that
// names one the node lacks is refused with a message saying which it has, rather than booted by
// another driver.
//
// Filled once at start-up (add), then only read (find, names): reads may overlap, add may not
// overlap anything.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/runtime/runtime.h"
#include "common/result.h"

namespace berth::agent {

class RuntimeRegistry {
 public:
  // `node_name` names the node in find()'s refusal.
  explicit RuntimeRegistry(std::string node_name) : node_name_(std::move(node_name)) {}

  // Takes the driver under its name(); a second driver of the same name is refused.
  Status add(std::unique_ptr<Runtime> runtime);
  // The driver named `name` (owned by the registry, alive as long as it is), or
  // failedPrecondition: "runtime 'firecracker' is not available on node n1; it has: qemu".
  Result<Runtime*> find(const std::string& name) const;
  // The names offered, sorted.
  std::vector<std::string> names() const;

 private:
  std::string node_name_;
  std::map<std::string, std::unique_ptr<Runtime>> runtimes_;
};

}  // namespace berth::agent
