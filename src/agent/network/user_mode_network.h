#pragma once
// User-mode networking on QEMU's slirp: each VM is its own private 10.0.2.0/24 behind QEMU,
// with nothing configured on the host. The guest is 10.0.2.15 (gateway .2, DNS .3); a guest
// connection to 10.0.2.100:80 makes QEMU run `berth-agent serve-image <the VM's images dir>`
// (guestfwd), and node ports are forwarded in with hostfwd_add over the VM's QMP socket. So it
// serves VMs of the qemu runtime only (RuntimeCapabilities::user_mode_nic).

#include <string>

#include "agent/network/vm_network.h"

namespace berth::agent {

class UserModeNetwork final : public VmNetwork {
 public:
  // `agent_binary`: the berth-agent QEMU runs as the image relay.
  explicit UserModeNetwork(std::string agent_binary) : agent_binary_(std::move(agent_binary)) {}

  std::vector<Nic> nicsFor(const Paths::Vm& vm) const override;
  std::string imageRelayAddress() const override;
  Status forwardPort(const Paths::Vm& vm, int node_port, int guest_port) override;

 private:
  std::string agent_binary_;
};

}  // namespace berth::agent
