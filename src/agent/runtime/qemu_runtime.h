#pragma once
// The qemu driver: spawns qemu-system-x86_64 (daemonized, so it outlives the agent) with a
// microvm (default) or q35 machine, KVM when /dev/kvm is usable and TCG otherwise, and talks
// QMP over the VM's unix socket. Dev-mode networking is QEMU user networking.

#include <string>
#include <vector>

#include "agent/runtime/runtime.h"

namespace berth::agent {

// The full QEMU argv for a launch (pure). `tsc_khz` (TCG only) is passed to the guest kernel.
std::vector<std::string> qemuArgv(const std::string& qemu_binary, const VmLaunch& launch, const Paths::Vm& paths,
                                  bool kvm, int64_t tsc_khz);

class QemuRuntime final : public Runtime {
 public:
  explicit QemuRuntime(std::string qemu_binary = "qemu-system-x86_64");
  Result<pid_t> start(const VmLaunch& launch, const Paths::Vm& paths) override;
  std::optional<pid_t> running(const Paths::Vm& paths) override;
  Status powerdown(const Paths::Vm& paths) override;
  Status kill(const Paths::Vm& paths) override;
  Status forwardPort(const Paths::Vm& paths, int host_port, int guest_port) override;

 private:
  std::string qemu_binary_;
  bool kvm_;
  int64_t tsc_khz_ = 0;
};

}  // namespace berth::agent
