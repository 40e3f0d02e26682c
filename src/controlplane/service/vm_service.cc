#include "controlplane/service/vm_service.h"

#include "controlplane/service/project_network.h"
#include "controlplane/service/quota.h"

namespace berth::controlplane {

namespace {
std::string vmObject(const std::string& project, const std::string& name) {
  return "VM '" + name + "' in project '" + project + "'";
}
std::string vmPath(const std::string& project, const std::string& name) {
  return "projects/" + project + "/vms/" + name;
}
nlohmann::json vmDetails(const store::Vm& vm) {
  return {{"vcpus", vm.vcpus}, {"memory_mib", vm.memory_mib}, {"disk_gib", vm.disk_gib},
          {"machine", vm.machine}, {"power", vm.power}, {"address", vm.address}};
}
}  // namespace

Result<store::Vm> VmService::create(const Principal& who, store::Vm vm) {
  BERTH_RETURN_IF_ERROR(authorize(who, vm.project, Access::kDeploy, "project '" + vm.project + "'"));
  vm.version = 1;
  vm.state = "pending";
  vm.created_at = vm.updated_at = ctx_.clock.wallMillis();
  BERTH_RETURN_IF_ERROR(ctx_.store.write([&](store::Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(store::Project p, tx.getProject(vm.project));
    // An existing name is refused as such, not as a full network.
    if (tx.getVm(vm.project, vm.name).isOk()) return alreadyExists(vmObject(vm.project, vm.name) + " already exists");
    BERTH_ASSIGN_OR_RETURN(store::Usage usage, tx.projectUsage(vm.project));
    addToUsage(usage, vm);
    BERTH_RETURN_IF_ERROR(checkUsageWithinQuota(vm.project, p.quotas, usage));
    // A project made before networks gets its subnet with its first new VM (berthd also gives
    // them one at startup, unless the pool was full then).
    BERTH_ASSIGN_OR_RETURN(vm.address, addressForNewVm(tx, ctx_, who, p, vm.created_at));
    BERTH_RETURN_IF_ERROR(tx.insertVm(vm));
    return tx.appendEvent(ctx_.event(who, "vm.create", vm.project, vmPath(vm.project, vm.name), vmDetails(vm)))
        .status();
  }));
  return vm;
}

Result<store::Page<store::Vm>> VmService::list(const Principal& who, const std::string& project,
                                                const std::string& after, int limit) {
  BERTH_RETURN_IF_ERROR(authorize(who, project, Access::kRead, "project '" + project + "'"));
  return ctx_.listInProject(project, [&](store::Tx& tx) { return tx.listVms(project, after, limit); });
}

Result<store::Vm> VmService::get(const Principal& who, const std::string& project, const std::string& name) {
  BERTH_RETURN_IF_ERROR(authorize(who, project, Access::kRead, vmObject(project, name)));
  store::Vm vm;
  BERTH_RETURN_IF_ERROR(ctx_.store.read([&](store::Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(vm, tx.getVm(project, name));
    return Status::ok();
  }));
  return vm;
}

Result<store::Vm> VmService::update(const Principal& who, const std::string& project, const std::string& name,
                                    const VmPatch& patch, std::optional<int64_t> if_match) {
  BERTH_RETURN_IF_ERROR(authorize(who, project, Access::kDeploy, vmObject(project, name)));
  store::Vm vm;
  BERTH_RETURN_IF_ERROR(ctx_.store.write([&](store::Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(vm, tx.getVm(project, name));
    BERTH_RETURN_IF_ERROR(checkVersion(if_match, vm.version, vmObject(project, name)));
    BERTH_ASSIGN_OR_RETURN(store::Project p, tx.getProject(project));
    BERTH_ASSIGN_OR_RETURN(store::Usage usage, tx.projectUsage(project));
    store::Vm next = vm;
    if (patch.vcpus) next.vcpus = *patch.vcpus;
    if (patch.memory_mib) next.memory_mib = *patch.memory_mib;
    if (patch.disk_gib) next.disk_gib = *patch.disk_gib;
    if (patch.machine) next.machine = *patch.machine;
    if (patch.power) next.power = *patch.power;
    if (next.disk_gib < vm.disk_gib) {
      return invalidArgument("disk_gib cannot shrink (from " + std::to_string(vm.disk_gib) + " to " +
                             std::to_string(next.disk_gib) + "); data would be lost");
    }
    usage.vcpus += next.vcpus - vm.vcpus;
    usage.memory_mib += next.memory_mib - vm.memory_mib;
    usage.disk_gib += next.disk_gib - vm.disk_gib;
    BERTH_RETURN_IF_ERROR(checkUsageWithinQuota(project, p.quotas, usage));
    next.updated_at = ctx_.clock.wallMillis();
    BERTH_RETURN_IF_ERROR(tx.updateVm(next, vm.version));
    next.version = vm.version + 1;
    vm = next;
    return tx.appendEvent(ctx_.event(who, "vm.update", project, vmPath(project, name), vmDetails(vm))).status();
  }));
  return vm;
}

Result<store::Vm> VmService::power(const Principal& who, const std::string& project, const std::string& name,
                                   PowerAction action, std::optional<int64_t> if_match) {
  BERTH_RETURN_IF_ERROR(authorize(who, project, Access::kDeploy, vmObject(project, name)));
  static const char* kActions[] = {"vm.start", "vm.stop", "vm.restart"};
  store::Vm vm;
  BERTH_RETURN_IF_ERROR(ctx_.store.write([&](store::Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(vm, tx.getVm(project, name));
    BERTH_RETURN_IF_ERROR(checkVersion(if_match, vm.version, vmObject(project, name)));
    int64_t version = vm.version;
    vm.power = action == PowerAction::kStop ? "stopped" : "running";
    if (action == PowerAction::kRestart) vm.restart_generation += 1;
    vm.updated_at = ctx_.clock.wallMillis();
    BERTH_RETURN_IF_ERROR(tx.updateVm(vm, version));
    vm.version = version + 1;
    return tx.appendEvent(ctx_.event(who, kActions[static_cast<int>(action)], project, vmPath(project, name))).status();
  }));
  return vm;
}

Status VmService::remove(const Principal& who, const std::string& project, const std::string& name,
                         std::optional<int64_t> if_match) {
  BERTH_RETURN_IF_ERROR(authorize(who, project, Access::kDeploy, vmObject(project, name)));
  return ctx_.store.write([&](store::Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(store::Vm vm, tx.getVm(project, name));
    BERTH_RETURN_IF_ERROR(checkVersion(if_match, vm.version, vmObject(project, name)));
    BERTH_RETURN_IF_ERROR(tx.deleteVm(project, name));
    return tx.appendEvent(ctx_.event(who, "vm.delete", project, vmPath(project, name))).status();
  });
}

}  // namespace berth::controlplane
