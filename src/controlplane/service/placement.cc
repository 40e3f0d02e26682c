#include "controlplane/service/placement.h"

#include <algorithm>
#include <map>

namespace berth::controlplane {

Result<std::vector<store::Vm>> appPlacement(store::Tx& tx, const std::string& project, const model::AppSpec& spec) {
  if (spec.vm) {
    BERTH_ASSIGN_OR_RETURN(store::Vm vm, tx.getVm(project, *spec.vm));
    return std::vector<store::Vm>{vm};
  }
  BERTH_ASSIGN_OR_RETURN(std::vector<store::Vm> vms, tx.listVmsByAge(project));
  if (vms.size() > static_cast<std::size_t>(std::max<int64_t>(spec.replicas, 0))) {
    vms.resize(static_cast<std::size_t>(std::max<int64_t>(spec.replicas, 0)));
  }
  return vms;
}

AppStatusSummary summarizeInstances(const std::vector<store::Vm>& placement,
                                    const std::vector<store::AppInstance>& instances) {
  std::map<std::string, const store::AppInstance*> by_vm;
  for (const auto& i : instances) by_vm[i.vm] = &i;
  AppStatusSummary out;
  for (const auto& vm : placement) {
    if (auto it = by_vm.find(vm.name); it != by_vm.end()) out.release = std::max(out.release, it->second->release);
  }
  if (out.release == 0) return out;
  const bool several = placement.size() > 1;
  auto where = [&](const store::AppInstance& i) { return several ? "VM " + i.vm + ": " : std::string(); };
  std::size_t running = 0, unhealthy = 0;
  const store::AppInstance* first_unhealthy = nullptr;
  const store::AppInstance* deploying = nullptr;
  for (const auto& vm : placement) {
    auto it = by_vm.find(vm.name);
    if (it == by_vm.end() || it->second->release != out.release) continue;
    const store::AppInstance& i = *it->second;
    if (i.state == "failed") {
      out.state = "failed";
      out.detail = where(i) + i.detail;
      return out;
    }
    if (i.state == "running") ++running;
    if (i.state == "unhealthy" && ++unhealthy == 1) first_unhealthy = &i;
    if (i.state == "deploying" && !deploying) deploying = &i;
  }
  if (running == placement.size()) {
    out.state = "running";
  } else if (running + unhealthy == placement.size()) {
    out.state = "unhealthy";
    out.detail = where(*first_unhealthy) + first_unhealthy->detail;
  } else {
    out.state = "deploying";
    out.detail = several ? std::to_string(running) + " of " + std::to_string(placement.size()) + " instances running"
                         : (deploying ? deploying->detail : "");
  }
  return out;
}

}  // namespace berth::controlplane
