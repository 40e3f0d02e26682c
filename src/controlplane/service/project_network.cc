#include "controlplane/service/project_network.h"

namespace berth::controlplane {

namespace {
std::vector<std::string> vmAddresses(const std::vector<store::Vm>& vms) {
  std::vector<std::string> out;
  for (const auto& vm : vms) {
    if (!vm.address.empty()) out.push_back(vm.address);
  }
  return out;
}
}  // namespace

Result<std::string> newProjectSubnet(store::Tx& tx, const NetworkPool& pool) {
  BERTH_ASSIGN_OR_RETURN(auto taken, tx.listProjectSubnets());
  return pool.allocateSubnet(taken);
}

Result<bool> ensureProjectSubnet(store::Tx& tx, const NetworkPool& pool, store::Project& project, int64_t now) {
  if (!project.subnet.empty()) return false;
  BERTH_ASSIGN_OR_RETURN(project.subnet, newProjectSubnet(tx, pool));
  project.updated_at = now;
  BERTH_RETURN_IF_ERROR(tx.updateProject(project, project.version));
  project.version += 1;
  return true;
}

Result<std::string> newVmAddress(store::Tx& tx, const store::Project& project) {
  BERTH_ASSIGN_OR_RETURN(auto vms, tx.listVmsByAge(project.name));
  return allocateVmAddress(project.name, project.subnet, vmAddresses(vms));
}

Result<std::vector<std::string>> addressUnaddressedVms(store::Tx& tx, const store::Project& project, int64_t now) {
  BERTH_ASSIGN_OR_RETURN(auto vms, tx.listVmsByAge(project.name));
  std::vector<std::string> taken = vmAddresses(vms);
  std::vector<std::string> addressed;
  // Oldest first, so the VMs that ran longest get the lowest addresses.
  for (auto& vm : vms) {
    if (!vm.address.empty()) continue;
    BERTH_ASSIGN_OR_RETURN(vm.address, allocateVmAddress(project.name, project.subnet, taken));
    taken.push_back(vm.address);
    vm.updated_at = now;
    BERTH_RETURN_IF_ERROR(tx.updateVm(vm, vm.version));
    addressed.push_back(vm.name);
  }
  return addressed;
}

Result<std::string> addressForNewVm(store::Tx& tx, const ServiceContext& ctx, const Principal& who,
                                    store::Project& project, int64_t now) {
  BERTH_ASSIGN_OR_RETURN(bool allocated, ensureProjectSubnet(tx, ctx.networks, project, now));
  if (allocated) {
    BERTH_RETURN_IF_ERROR(tx.appendEvent(ctx.event(who, "project.network", project.name, "projects/" + project.name,
                                                   {{"subnet", project.subnet}}))
                              .status());
  }
  return newVmAddress(tx, project);
}

}  // namespace berth::controlplane
