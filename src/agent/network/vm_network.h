#pragma once
// How the node's VMs are networked: the NICs a VM boots with and the node-side ports that reach
// its guests. (Images do not travel over the network: image_port.h.) One implementation per
// networking mode: user mode (user_mode_network.h) today; bridged/tap next (issue 11).
//
// The runtime boots the NICs it is given (runtime/runtime.h); the network never starts or
// stops a VM. Calls for one VM come from one thread at a time; calls for different VMs may
// overlap.

#include <string>
#include <vector>

#include "agent/paths.h"
#include "agent/runtime/vm_launch.h"
#include "common/status.h"

namespace berth::agent {

class VmNetwork {
 public:
  virtual ~VmNetwork() = default;

  // The NICs for VmLaunch::nics.
  virtual std::vector<Nic> nicsFor(const Paths::Vm& vm) const = 0;
  // Makes the running VM's TCP `guest_port` reachable at the node's 127.0.0.1:`node_port`,
  // until the VM stops. A node port already taken fails with failedPrecondition.
  virtual Status forwardPort(const Paths::Vm& vm, int node_port, int guest_port) = 0;
};

}  // namespace berth::agent
