#pragma once
// One run of one release of an app in a VM, as the agent tracks it.

#include <cstdint>
#include <string>

namespace berth::agent {

// `slot` picks its guest port: a start-first rollout starts the new instance on the other
// slot's port beside the old one.
struct Instance {
  std::string id;  // "<app>-<release>"; the key init knows it by
  int64_t release = 0;
  std::string spec;  // the release's spec as assigned (JSON): equal specs need no new instance
  int slot = 0;
  std::string health;  // "" (no check) | starting | healthy | unhealthy
  std::string health_detail;
  bool operator==(const Instance&) const = default;
};

// The guest port an instance in `slot` listens on for the spec's `port`. Slot 0 listens on the
// port the spec names, slot 1 on one 10000 away: the app learns which from $PORT (or `$(PORT)`
// in its command).
inline int instancePort(int port, int slot) {
  if (slot == 0) return port;
  return port + 10000 <= 65535 ? port + 10000 : port - 10000;
}

}  // namespace berth::agent
