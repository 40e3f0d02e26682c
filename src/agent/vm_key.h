#pragma once
// How the agent names a VM and an instance in it: by fields, not by "project/vm" strings that
// every user would have to build and split the same way.

#include <compare>
#include <string>

namespace berth::agent {

struct VmKey {
  std::string project;
  std::string name;
  auto operator<=>(const VmKey&) const = default;
  // "project/vm", for logs.
  std::string toString() const { return project + "/" + name; }
};

// One instance ("web-7") of an app in one VM.
struct InstanceKey {
  VmKey vm;
  std::string instance;
  auto operator<=>(const InstanceKey&) const = default;
};

}  // namespace berth::agent
