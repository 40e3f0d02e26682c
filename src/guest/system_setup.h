#pragma once
// The boot steps of PID 1 that touch the kernel: filesystems, modules, hostname, network.
// Each returns a Status so init can report what failed on the console and keep going.

#include <string>

#include "common/status.h"
#include "guest/kernel_cmdline.h"

namespace berth::guest {

// proc, sysfs, devtmpfs, cgroup2, tmpfs on /run and /tmp.
Status mountBaseFilesystems();

// Loads every module named in <dir>/load.order, in that order (the agent writes it in
// dependency order when it builds the initramfs). A module already built in is not an error.
Status loadModules(const std::string& dir);

Status setHostname(const std::string& hostname);

// Brings up lo and, when config.address is set, eth0 with that address, a default route via
// config.gateway and /etc/resolv.conf naming config.nameserver.
Status configureNetwork(const BootConfig& config);

// Mounts the per-VM scratch disk (ext4, formatted by the agent) at `mount_point`, or a tmpfs
// there when the VM has none.
Status mountScratch(const std::string& device, const std::string& mount_point);

}  // namespace berth::guest
