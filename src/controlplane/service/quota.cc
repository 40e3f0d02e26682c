#include "controlplane/service/quota.h"

#include <array>
#include <utility>

namespace berth::controlplane {

namespace {
std::array<std::pair<const char*, std::pair<int64_t, int64_t>>, 4> pairs(const store::Quotas& q,
                                                                         const store::Usage& u) {
  return {{{"vcpus", {u.vcpus, q.vcpus}},
           {"memory_mib", {u.memory_mib, q.memory_mib}},
           {"disk_gib", {u.disk_gib, q.disk_gib}},
           {"vms", {u.vms, q.vms}}}};
}
}  // namespace

void addToUsage(store::Usage& usage, const store::Vm& vm) {
  usage.vcpus += vm.vcpus;
  usage.memory_mib += vm.memory_mib;
  usage.disk_gib += vm.disk_gib;
  usage.vms += 1;
}

Status checkUsageWithinQuota(const std::string& project, const store::Quotas& quotas, const store::Usage& usage) {
  for (const auto& [name, uq] : pairs(quotas, usage)) {
    auto [used, limit] = uq;
    if (used > limit) {
      return failedPrecondition("quota exceeded in project '" + project + "': " + name + " would be " +
                                std::to_string(used) + " of a quota of " + std::to_string(limit) + " (over by " +
                                std::to_string(used - limit) + ")");
    }
  }
  return Status::ok();
}

Status checkQuotaNotBelowUsage(const std::string& project, const store::Quotas& quotas, const store::Usage& usage) {
  for (const auto& [name, uq] : pairs(quotas, usage)) {
    auto [used, limit] = uq;
    if (used > limit) {
      return failedPrecondition("cannot set the " + std::string(name) + " quota of project '" + project + "' to " +
                                std::to_string(limit) + ": it already uses " + std::to_string(used));
    }
  }
  return Status::ok();
}

}  // namespace berth::controlplane
