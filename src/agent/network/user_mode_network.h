#pragma once
// User-mode networking on QEMU's slirp: each VM is its own private 10.0.2.0/24 behind QEMU,
// with nothing configured on the host. The guest is 10.0.2.15 (gateway .2, DNS .3), and the NIC
// is restricted (restrict=on): the guest reaches neither the host nor the outside. The only way
// in is a node port forwarded with hostfwd_add over the VM's QMP socket (restrict=on leaves
// explicit forwards working), and images come through the image port, not the network
// (image_port.h). So it serves VMs of the qemu runtime only (RuntimeCapabilities::user_mode_nic).

#include <string>

#include "agent/network/vm_network.h"

namespace berth::agent {

class UserModeNetwork final : public VmNetwork {
 public:
  std::vector<Nic> nicsFor(const Paths::Vm& vm) const override;
  Status forwardPort(const Paths::Vm& vm, int node_port, int guest_port) override;
};

}  // namespace berth::agent
