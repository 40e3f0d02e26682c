#include "agent/network/user_mode_network.h"

#include <chrono>

#include "agent/runtime/qemu_runtime.h"
#include "agent/runtime/qmp_client.h"

namespace berth::agent {
namespace {

constexpr std::chrono::milliseconds kQmpTimeout{5000};

}  // namespace

std::vector<Nic> UserModeNetwork::nicsFor(const Paths::Vm&) const {
  Nic nic;
  nic.mode = Nic::Mode::kUserMode;
  nic.guest_cidr = "10.0.2.15/24";
  nic.gateway = "10.0.2.2";
  nic.dns = "10.0.2.3";
  return {nic};
}

Status UserModeNetwork::forwardPort(const Paths::Vm& vm, int node_port, int guest_port) {
  BERTH_ASSIGN_OR_RETURN(auto qmp, QmpClient::connect(QemuFiles::of(vm).qmp_socket, kQmpTimeout));
  // The VM's one user-mode NIC is netdev net0 (qemuArgv).
  BERTH_ASSIGN_OR_RETURN(std::string output, qmp->human("hostfwd_add net0 tcp:127.0.0.1:" + std::to_string(node_port) +
                                                         "-:" + std::to_string(guest_port)));
  if (!output.empty()) {
    return failedPrecondition("cannot publish port " + std::to_string(guest_port) + " on 127.0.0.1:" +
                              std::to_string(node_port) + " (is it in use?): " + output);
  }
  return Status::ok();
}

}  // namespace berth::agent
