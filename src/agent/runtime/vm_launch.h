#pragma once
// What a runtime is asked to boot, in terms no hypervisor owns: the VM's size, its guest kernel
// and initramfs, and its NICs as the node's network (network/vm_network.h) describes them.

#include <cstdint>
#include <string>
#include <vector>

namespace berth::agent {

// A NIC the VM boots with. The guest learns its addressing from the runtime at boot (berth-init
// reads it from the kernel command line and configures eth0, so only the first NIC's is used).
struct Nic {
  // User mode: the hypervisor itself is the guest's router (QEMU's slirp, restricted); nothing
  // on the host is configured and the VM is reachable only through forwards.
  // Tap: the VM's end of a tap device the node's network made (network/bridged_network.h).
  enum class Mode { kUserMode, kTap };
  Mode mode = Mode::kUserMode;
  std::string tap;         // kTap: the device's name
  std::string mac;         // kTap: the guest's MAC, which the bridge's filter pins to the tap
  std::string guest_cidr;  // "10.0.2.15/24"
  std::string gateway;     // "10.0.2.2"
  std::string dns;         // "10.0.2.3"
  int mtu = 0;  // kTap: the MTU the guest's NIC reports (virtio host_mtu); 0: its default
};

struct VmLaunch {
  std::string project;
  std::string name;
  int64_t vcpus = 1;
  int64_t memory_mib = 512;
  int64_t disk_gib = 2;
  std::string machine = "microvm";  // microvm | q35
  std::string kernel;
  std::string initramfs;
  std::vector<Nic> nics;
};

// A disk for Runtime::attachDisk.
struct DiskAttachment {
  std::string id;
  std::string path;
  bool read_only = false;
};

}  // namespace berth::agent
