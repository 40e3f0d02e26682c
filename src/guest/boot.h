#pragma once
// berth-init's whole life as one call: the boot steps (mounts, console, modules, hostname,
// network, scratch disk), the channel port, Init's loop until shutdown, then power-off. Boot
// steps are reported on the console (the VM's serial log): until the channel is up it is the
// only way out.
//
// berth-init's main() is this call alone. The test-only hostile init (tests/e2e/hostile_init.cc)
// makes it too, with a hook, so that it boots exactly like berth-init.

#include <functional>

#include "guest/channel.h"
#include "guest/kernel_cmdline.h"

namespace berth::guest {

// Called once the system is up and the channel port is open, before Init serves the port; when
// it returns, Init takes the channel over as usual. berth-init passes none.
using BeforeServe = std::function<void(const BootConfig& config, Channel& channel)>;

// Never returns: a PID 1 that returned would panic the kernel.
[[noreturn]] void bootAndServe(const BeforeServe& before_serve = {});

}  // namespace berth::guest
