#include "agent/network/user_mode_network.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>

#include "agent/runtime/qemu_runtime.h"
#include "agent/runtime/qmp_client.h"
#include "os/file_util.h"
#include "os/unique_fd.h"

namespace berth::agent {
namespace {

constexpr std::chrono::milliseconds kQmpTimeout{5000};

Result<int> freeLoopbackPort() {
  os::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return internalError("cannot find a free port on 127.0.0.1: " + os::errnoMessage(errno));
  }
  return static_cast<int>(ntohs(addr.sin_port));
}

}  // namespace

Result<std::vector<Nic>> UserModeNetwork::nicsFor(const model::VmSpec&, const Paths::Vm&) const {
  Nic nic;
  nic.mode = Nic::Mode::kUserMode;
  nic.guest_cidr = "10.0.2.15/24";
  nic.gateway = "10.0.2.2";
  nic.dns = "10.0.2.3";
  return std::vector<Nic>{nic};
}

Result<std::string> UserModeNetwork::exposePort(const model::VmSpec&, const Paths::Vm& vm,
                                                int guest_port) {
  BERTH_ASSIGN_OR_RETURN(int node_port, freeLoopbackPort());
  BERTH_ASSIGN_OR_RETURN(auto qmp, QmpClient::connect(QemuFiles::of(vm).qmp_socket, kQmpTimeout));
  // The VM's one user-mode NIC is netdev net0 (qemuArgv).
  BERTH_ASSIGN_OR_RETURN(std::string output,
                         qmp->human("hostfwd_add net0 tcp:127.0.0.1:" + std::to_string(node_port) +
                                    "-:" + std::to_string(guest_port)));
  if (!output.empty()) {
    return failedPrecondition("cannot forward 127.0.0.1:" + std::to_string(node_port) +
                              " to guest port " + std::to_string(guest_port) + ": " + output);
  }
  return "127.0.0.1:" + std::to_string(node_port);
}

}  // namespace berth::agent
