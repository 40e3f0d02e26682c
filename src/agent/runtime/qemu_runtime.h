#pragma once
// The qemu driver: spawns qemu-system-x86_64 (daemonized, so it outlives the agent) with a
// microvm (default) or q35 machine, KVM when /dev/kvm is usable and TCG otherwise, and controls
// it over QMP on the VM's unix socket. It boots user-mode NICs (QEMU's slirp); ports are
// forwarded into them by network/user_mode_network.h over the same QMP socket.

#include <cstdint>
#include <string>
#include <vector>

#include "agent/runtime/runtime.h"

namespace berth::agent {

// The driver's private files in a VM's directory. Their names are part of the on-disk layout:
// an agent adopts the VMs an older one started by them.
struct QemuFiles {
  std::string pidfile;     // qemu.pid, written by QEMU
  std::string qmp_socket;  // qmp.sock
  std::string log;         // qemu.log: QEMU's own stderr (launch errors)
  static QemuFiles of(const Paths::Vm& vm);
};

// The host's QEMU and how it runs guests, decided once per agent.
struct QemuHost {
  std::string binary = "qemu-system-x86_64";
  bool kvm = false;
  int64_t tsc_khz = 0;  // TCG only: the host's TSC rate, given to the guest kernel
};

// Starts `binary` to find out whether KVM works here and, if not, measures the TSC (about
// 50 ms, up to 10 s when a KVM probe hangs); logs the outcome.
QemuHost probeQemuHost(const std::string& binary = "qemu-system-x86_64");

// The full QEMU argv for a launch (pure): the first NIC's addressing goes to the guest on the
// kernel command line; NIC i is netdev net<i>.
std::vector<std::string> qemuArgv(const QemuHost& host, const VmLaunch& launch, const Paths::Vm& vm);

class QemuRuntime final : public Runtime {
 public:
  explicit QemuRuntime(QemuHost host);
  const std::string& name() const override;
  RuntimeCapabilities capabilities() const override;
  Result<pid_t> launch(const VmLaunch& launch, const Paths::Vm& vm) override;
  std::optional<pid_t> running(const Paths::Vm& vm) override;
  std::string channelEndpoint(const Paths::Vm& vm) const override;
  // QMP system_powerdown (the guest's init handles the ACPI power button).
  Status stop(const Paths::Vm& vm) override;
  // QMP quit, then SIGKILL if QEMU is still there after 2 s.
  Status kill(const Paths::Vm& vm) override;

 private:
  QemuHost host_;
};

}  // namespace berth::agent
