#include "controlplane/service/control_plane.h"

namespace berth::controlplane {

namespace {

// The VM an app runs in: its pinned VM, else the project's first by name (as the assignment
// places it), and that VM must be on a node.
Result<store::Vm> appVm(store::Tx& tx, const std::string& project, const std::string& app_name) {
  BERTH_ASSIGN_OR_RETURN(store::App app, tx.getApp(project, app_name));
  BERTH_ASSIGN_OR_RETURN(AppSpec spec, appSpecFromJson(app.spec_json));
  if (!spec.vm) {
    BERTH_ASSIGN_OR_RETURN(auto first, tx.listVms(project, "", 1));
    if (first.items.empty()) {
      return failedPrecondition("app '" + app_name + "' has no VM to run in: project '" + project + "' has no VMs");
    }
    spec.vm = first.items[0].name;
  }
  return tx.getVm(project, *spec.vm);
}

Result<SessionTarget> placed(const store::Vm& vm) {
  if (!vm.node || vm.node->empty()) {
    return failedPrecondition("VM '" + vm.name + "' is not placed on a node yet (state " + vm.state +
                              (vm.state_detail.empty() ? "" : ": " + vm.state_detail) + ")");
  }
  return SessionTarget{vm.name, *vm.node};
}

}  // namespace

Result<SessionTarget> ControlPlane::execTarget(const Principal& who, const std::string& project,
                                               const std::string& app, const std::vector<std::string>& command) {
  BERTH_RETURN_IF_ERROR(authorize(who, project, Access::kDeploy, "app '" + app + "' in project '" + project + "'"));
  SessionTarget target;
  BERTH_RETURN_IF_ERROR(store_.write([&](store::Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(store::Vm vm, appVm(tx, project, app));
    BERTH_ASSIGN_OR_RETURN(target, placed(vm));
    if (vm.state != "running") {
      return failedPrecondition("VM '" + vm.name + "' of app '" + app + "' is " + vm.state +
                                (vm.power == "stopped" ? "; start it with 'berth vm start " + vm.name + "'" : ""));
    }
    return tx.appendEvent(event(who, "app.exec", project, "projects/" + project + "/apps/" + app,
                                {{"command", command}, {"vm", vm.name}}))
        .status();
  }));
  return target;
}

Result<SessionTarget> ControlPlane::logsTarget(const Principal& who, const std::string& project,
                                               const std::string& app) {
  BERTH_RETURN_IF_ERROR(authorize(who, project, Access::kRead, "app '" + app + "' in project '" + project + "'"));
  SessionTarget target;
  BERTH_RETURN_IF_ERROR(store_.read([&](store::Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(store::Vm vm, appVm(tx, project, app));
    BERTH_ASSIGN_OR_RETURN(target, placed(vm));
    return Status::ok();
  }));
  return target;
}

Result<SessionTarget> ControlPlane::consoleTarget(const Principal& who, const std::string& project,
                                                  const std::string& vm_name) {
  BERTH_RETURN_IF_ERROR(authorize(who, project, Access::kDeploy, "VM '" + vm_name + "' in project '" + project + "'"));
  SessionTarget target;
  BERTH_RETURN_IF_ERROR(store_.read([&](store::Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(store::Vm vm, tx.getVm(project, vm_name));
    BERTH_ASSIGN_OR_RETURN(target, placed(vm));
    return Status::ok();
  }));
  return target;
}

}  // namespace berth::controlplane
