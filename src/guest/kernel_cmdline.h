#pragma once
// What the agent tells a guest on its kernel command line (berth.* parameters): enough to bring
// up the network before the channel exists. Parsing is pure so it is unit-tested on the host.

#include <string>
#include <string_view>

namespace berth::guest {

struct BootConfig {
  std::string hostname = "berth";
  std::string address;      // "10.0.2.15/24"; empty = no network
  std::string gateway;      // "10.0.2.2"
  std::string nameserver;   // "10.0.2.3"
  std::string scratch_device = "/dev/vda";
};

// Reads berth.hostname=, berth.ip=, berth.gw=, berth.dns=, berth.scratch= from a
// /proc/cmdline string; other parameters are the kernel's and are ignored.
BootConfig parseKernelCmdline(std::string_view cmdline);

}  // namespace berth::guest
