#pragma once
// User-mode networking on QEMU's slirp, for an agent without CAP_NET_ADMIN: each VM is its own
// private 10.0.2.0/24 behind QEMU, with nothing configured on the host, and restrict=on: the
// guest reaches neither the host nor the outside nor any other VM, only what is forwarded in.
// Published ports are forwarded in with hostfwd_add over the VM's QMP socket, from a free port
// on the node's 127.0.0.1. There is no project network in this mode (no VM reaches another)
// and no egress. It serves VMs of the qemu runtime only (RuntimeCapabilities::user_mode_nic).

#include <string>

#include "agent/network/vm_network.h"

namespace berth::agent {

class UserModeNetwork final : public VmNetwork {
 public:
  std::string mode() const override { return "user"; }
  Status apply(const model::NodeAssignment&) override { return Status::ok(); }
  Result<std::vector<Nic>> nicsFor(const model::VmSpec& vm, const Paths::Vm& paths) const override;
  Result<std::string> exposePort(const model::VmSpec& vm, const Paths::Vm& paths,
                                 int guest_port) override;
};

}  // namespace berth::agent
