#pragma once
// Builds the guest initramfs: berth-init as /init, the kernel modules it loads (with
// load.order in dependency order), and busybox with its applet links as the guest's toolbox
// (exec, and the sample app's HTTP server). The archive is reproducible — sorted entries, zero
// timestamps and owners — and cached under the hash of its inputs, so it is built once.

#include <string>
#include <vector>

#include "common/result.h"

namespace berth::agent {

struct InitramfsInputs {
  std::string init_binary;          // path of berth-init
  std::string modules_dir;          // <kernel>/modules (lib/modules/<version>)
  std::vector<std::string> modules; // names, in load order: "virtio_ring", ...
  std::string busybox;              // path of a static busybox; empty to leave it out
};

// The modules every Berth guest loads, in dependency order.
const std::vector<std::string>& defaultGuestModules();

// Returns the path of the cached archive in `cache_dir`, building it if needed.
Result<std::string> buildInitramfs(const InitramfsInputs& inputs, const std::string& cache_dir);

}  // namespace berth::agent
