#pragma once
// A virtio-serial port of the guest, found by the name the host gave it (QEMU's
// `virtserialport,name=...`): the kernel lists ports under /sys/class/virtio-ports.

#include <string>
#include <string_view>

#include "common/result.h"

namespace berth::guest {

// The /dev node of the port named `name` ("/dev/vport0p1").
Result<std::string> virtioPortDevice(std::string_view name);

}  // namespace berth::guest
