#include "agent/runtime/runtime.h"

namespace berth::agent {

Status Runtime::attachNic(const Paths::Vm&, const Nic&) { return unsupported("attach a NIC to a running VM"); }

Status Runtime::attachDisk(const Paths::Vm&, const DiskAttachment&) {
  return unsupported("attach a disk to a running VM");
}

Status Runtime::pause(const Paths::Vm&) { return unsupported("pause a VM"); }

Status Runtime::resume(const Paths::Vm&) { return unsupported("resume a VM"); }

Status Runtime::snapshot(const Paths::Vm&, const std::string&) { return unsupported("snapshot a VM"); }

Status Runtime::unsupported(const std::string& operation) const {
  return failedPrecondition("runtime '" + name() + "' cannot " + operation);
}

}  // namespace berth::agent
