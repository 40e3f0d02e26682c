#pragma once
// The seam between the agent's reconcile logic and a hypervisor. One driver today (qemu);
// libvirt, firecracker and cloud-hypervisor implement the same calls. A VM's process is
// independent of the agent: it survives an agent restart and is found again via its files.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "agent/paths.h"
#include "common/result.h"

namespace berth::agent {

struct VmLaunch {
  std::string project;
  std::string name;
  int64_t vcpus = 1;
  int64_t memory_mib = 512;
  int64_t disk_gib = 2;
  std::string machine = "microvm";  // microvm | q35
  std::string kernel;
  std::string initramfs;
  // The command QEMU runs for each guest connection to the image relay (10.0.2.100:80).
  std::string image_relay_command;
};

class Runtime {
 public:
  virtual ~Runtime() = default;
  // Boots the VM; returns once the hypervisor process runs (not when the guest is up).
  virtual Result<pid_t> start(const VmLaunch& launch, const Paths::Vm& paths) = 0;
  // The VM's hypervisor pid if it is running.
  virtual std::optional<pid_t> running(const Paths::Vm& paths) = 0;
  // Asks the guest to power off (ACPI power button).
  virtual Status powerdown(const Paths::Vm& paths) = 0;
  // Ends the VM now.
  virtual Status kill(const Paths::Vm& paths) = 0;
  // Publishes guest TCP port `guest_port` on the host's 127.0.0.1:`host_port`.
  virtual Status forwardPort(const Paths::Vm& paths, int host_port, int guest_port) = 0;
};

}  // namespace berth::agent
