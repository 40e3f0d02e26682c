#pragma once
// How the node's VMs are networked: the project networks a node provides, the NICs a VM boots
// with, and where the node reaches a guest's port. Two implementations (docs/networking.md):
// bridged (bridged_network.h: a bridge per project, a tap per VM, nftables, a resolver per
// project) where the agent has CAP_NET_ADMIN, and QEMU's user mode with restrict=on
// (user_mode_network.h) where it has not. Images never travel over the network
// (image_port.h), so in neither mode does a guest reach any address of the host.
//
// The runtime boots the NICs it is given (runtime/runtime.h); the network never starts or
// stops a VM. apply() comes from the agent's loop alone; the other calls come from the VMs'
// supervisors, several at once.

#include <string>
#include <vector>

#include "agent/paths.h"
#include "agent/runtime/vm_launch.h"
#include "common/result.h"
#include "model/node_protocol.h"

namespace berth::agent {

class VmNetwork {
 public:
  virtual ~VmNetwork() = default;

  // "bridged" or "user", for logs.
  virtual std::string mode() const = 0;
  // The node's underlay address when its project networks span nodes (the node registers it, and
  // berthd lists the node as a peer of its projects' other nodes); "" when they cannot.
  virtual std::string underlayAddress() const { return ""; }
  // Brings the node's networks to what `assignment`'s VMs need, before their supervisors see
  // them. An assignment it cannot apply is an error and changes nothing already applied.
  virtual Status apply(const model::NodeAssignment& assignment) = 0;
  // The NICs `vm` boots with (VmLaunch::nics).
  virtual Result<std::vector<Nic>> nicsFor(const model::VmSpec& vm,
                                           const Paths::Vm& paths) const = 0;
  // "host:port" where the node reaches the running VM's TCP `guest_port`, for a published
  // port's proxy; valid until the VM stops.
  virtual Result<std::string> exposePort(const model::VmSpec& vm, const Paths::Vm& paths,
                                         int guest_port) = 0;
};

}  // namespace berth::agent
