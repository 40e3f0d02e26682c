#pragma once
// The seam between the agent and a hypervisor: one driver per runtime name a VM may ask for
// (model::VmSpec::runtime). QEMU is the one driver today (qemu_runtime.h); libvirt, Firecracker
// and Cloud Hypervisor drivers implement the same calls.
//
// Contract for every driver:
// - A VM's process is independent of the agent: it keeps running when the agent exits, and a
//   new agent finds it again from the VM's directory alone (running()). So all of a driver's
//   per-VM state lives in files under Paths::Vm::dir; the driver names its private files (pid
//   file, control socket, its own log) and keeps those names across versions, or VMs started by
//   an older agent are no longer adopted.
// - The guest channel (guest_channel/) is a byte stream the agent connects to at
//   channelEndpoint(); the driver wires it to the guest's virtio-serial port or vsock.
// - Networking is not the driver's: a VM's NICs arrive described in VmLaunch::nics, and a
//   driver boots those it can (capabilities().user_mode_nic) and refuses the rest at launch.
// - Calls for one VM come from one thread at a time; calls for different VMs may overlap, so a
//   driver keeps no per-VM state in memory. Failures are values with a message for the user.
// - Optional capabilities (attach a NIC or disk, pause/resume, snapshot) are announced by
//   capabilities(); a driver without one answers failedPrecondition naming the runtime and the
//   operation, so the agent asks capabilities() before it offers them.

#include <sys/types.h>

#include <optional>
#include <string>

#include "agent/paths.h"
#include "agent/runtime/vm_launch.h"
#include "common/result.h"

namespace berth::agent {

struct RuntimeCapabilities {
  bool user_mode_nic = false;  // boots a Nic::Mode::kUserMode NIC
  bool attach_nic = false;     // attachNic on a running VM
  bool attach_disk = false;    // attachDisk on a running VM
  bool pause = false;          // pause and resume
  bool snapshot = false;
};

class Runtime {
 public:
  virtual ~Runtime() = default;

  // The name VMs ask for ("qemu").
  virtual const std::string& name() const = 0;
  virtual RuntimeCapabilities capabilities() const = 0;

  // Boots the VM: creates its directory and scratch disk if missing, then starts its process.
  // Returns that process's pid once it runs, not when the guest is up.
  virtual Result<pid_t> launch(const VmLaunch& launch, const Paths::Vm& vm) = 0;
  // The VM's process if it runs. This is also adoption: a VM a previous agent launched answers
  // here, and a stale pid file or a recycled pid does not.
  virtual std::optional<pid_t> running(const Paths::Vm& vm) = 0;
  // The unix socket the agent connects to for the guest channel's stream; it exists once the
  // VM's process runs.
  virtual std::string channelEndpoint(const Paths::Vm& vm) const = 0;
  // Asks the guest to power off (ACPI power button or the runtime's equivalent) and returns
  // without waiting for it.
  virtual Status stop(const Paths::Vm& vm) = 0;
  // Ends the VM's process now, forcibly if it must; ok when it is not running.
  virtual Status kill(const Paths::Vm& vm) = 0;

  // Optional; see capabilities().
  virtual Status attachNic(const Paths::Vm& vm, const Nic& nic);
  virtual Status attachDisk(const Paths::Vm& vm, const DiskAttachment& disk);
  virtual Status pause(const Paths::Vm& vm);
  virtual Status resume(const Paths::Vm& vm);
  // Saves the VM's memory and device state under `destination_dir`.
  virtual Status snapshot(const Paths::Vm& vm, const std::string& destination_dir);

 protected:
  // The answer of an optional operation this runtime lacks: "runtime 'qemu' cannot <operation>".
  Status unsupported(const std::string& operation) const;
};

}  // namespace berth::agent
