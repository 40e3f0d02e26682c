#include "controlplane/service/session_service.h"

#include "controlplane/service/placement.h"

namespace berth::controlplane {

namespace {

// The VM of the app's instance named `instance` (a VM name), or with none the first of its
// VMs that runs (else its first); that VM must be on a node.
Result<store::Vm> appVm(store::Tx& tx, const std::string& project, const std::string& app_name,
                        const std::string& instance) {
  BERTH_ASSIGN_OR_RETURN(store::App app, tx.getApp(project, app_name));
  BERTH_ASSIGN_OR_RETURN(model::AppSpec spec, model::appSpecFromJson(app.spec_json));
  BERTH_ASSIGN_OR_RETURN(auto placement, appPlacement(tx, project, spec));
  if (placement.empty()) {
    return failedPrecondition("app '" + app_name + "' has no VM to run in: project '" + project + "' has no VMs");
  }
  if (!instance.empty()) {
    std::string names;
    for (const auto& vm : placement) {
      if (vm.name == instance) return vm;
      names += (names.empty() ? "" : ", ") + vm.name;
    }
    return notFound("app '" + app_name + "' has no instance in VM '" + instance + "' (its instances: " + names + ")");
  }
  for (const auto& vm : placement) {
    if (vm.state == "running") return vm;
  }
  return placement[0];
}

Result<SessionTarget> placed(const store::Vm& vm) {
  if (!vm.node || vm.node->empty()) {
    return failedPrecondition("VM '" + vm.name + "' is not placed on a node yet (state " + vm.state +
                              (vm.state_detail.empty() ? "" : ": " + vm.state_detail) + ")");
  }
  return SessionTarget{vm.name, *vm.node};
}

}  // namespace

Result<SessionTarget> SessionService::execTarget(const Principal& who, const std::string& project,
                                                 const std::string& app, const std::vector<std::string>& command,
                                                 const std::string& instance) {
  BERTH_RETURN_IF_ERROR(authorize(who, project, Access::kDeploy, "app '" + app + "' in project '" + project + "'"));
  SessionTarget target;
  BERTH_RETURN_IF_ERROR(ctx_.store.write([&](store::Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(store::Vm vm, appVm(tx, project, app, instance));
    BERTH_ASSIGN_OR_RETURN(target, placed(vm));
    if (vm.state != "running") {
      return failedPrecondition("VM '" + vm.name + "' of app '" + app + "' is " + vm.state +
                                (vm.power == "stopped" ? "; start it with 'berth vm start " + vm.name + "'" : ""));
    }
    return tx.appendEvent(ctx_.event(who, "app.exec", project, "projects/" + project + "/apps/" + app,
                                     {{"command", command}, {"vm", vm.name}}))
        .status();
  }));
  return target;
}

Result<SessionTarget> SessionService::logsTarget(const Principal& who, const std::string& project,
                                                 const std::string& app, const std::string& instance) {
  BERTH_RETURN_IF_ERROR(authorize(who, project, Access::kRead, "app '" + app + "' in project '" + project + "'"));
  SessionTarget target;
  BERTH_RETURN_IF_ERROR(ctx_.store.read([&](store::Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(store::Vm vm, appVm(tx, project, app, instance));
    BERTH_ASSIGN_OR_RETURN(target, placed(vm));
    return Status::ok();
  }));
  return target;
}

Result<SessionTarget> SessionService::consoleTarget(const Principal& who, const std::string& project,
                                                    const std::string& vm_name) {
  BERTH_RETURN_IF_ERROR(authorize(who, project, Access::kDeploy, "VM '" + vm_name + "' in project '" + project + "'"));
  SessionTarget target;
  BERTH_RETURN_IF_ERROR(ctx_.store.read([&](store::Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(store::Vm vm, tx.getVm(project, vm_name));
    BERTH_ASSIGN_OR_RETURN(target, placed(vm));
    return Status::ok();
  }));
  return target;
}

}  // namespace berth::controlplane
