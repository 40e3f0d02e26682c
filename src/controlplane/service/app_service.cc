#include "controlplane/service/app_service.h"

#include <set>

#include "controlplane/service/app_urls.h"
#include "controlplane/service/host_ports.h"
#include "controlplane/service/image_service.h"
#include "controlplane/service/project_network.h"
#include "controlplane/service/quota.h"
#include "controlplane/service/releases.h"
#include "controlplane/service/secret_service.h"

namespace berth::controlplane {

namespace {
std::string appObject(const std::string& project, const std::string& name) {
  return "app '" + name + "' in project '" + project + "'";
}
std::string appPath(const std::string& project, const std::string& name) {
  return "projects/" + project + "/apps/" + name;
}
}  // namespace

Result<store::App> AppService::create(const Principal& who, const std::string& project, const std::string& name,
                                      const AppSpecPatch& patch) {
  BERTH_RETURN_IF_ERROR(authorize(who, project, Access::kDeploy, "project '" + project + "'"));
  model::AppSpec spec = applyPatch(model::AppSpec{}, patch);
  BERTH_RETURN_IF_ERROR(model::validateAppSpec(spec));
  BERTH_RETURN_IF_ERROR(checkHostPortsInRange(ctx_.host_ports, spec));
  store::App app;
  app.project = project;
  app.name = name;
  app.release = 1;
  app.version = 1;
  app.created_at = app.updated_at = ctx_.clock.wallMillis();
  BERTH_RETURN_IF_ERROR(ctx_.store.write([&](store::Tx& tx) {
    BERTH_RETURN_IF_ERROR(tx.getProject(project).status());
    if (spec.vm) BERTH_RETURN_IF_ERROR(tx.getVm(project, *spec.vm).status());
    BERTH_RETURN_IF_ERROR(resolveSecretVersions(tx, project, spec));
    BERTH_RETURN_IF_ERROR(checkImageImported(tx, project, spec));
    // A taken name is said before a taken port, and the existing app's claims are not its.
    if (tx.getApp(project, name).isOk()) return alreadyExists(appObject(project, name) + " already exists");
    BERTH_RETURN_IF_ERROR(claimHostPorts(tx, ctx_.host_ports, project, name, spec, app.created_at));
    BERTH_RETURN_IF_ERROR(addReplicaVms(tx, who, project, name, spec));
    app.spec_json = model::appSpecToJson(spec).dump();
    BERTH_RETURN_IF_ERROR(tx.insertApp(app));
    BERTH_RETURN_IF_ERROR(tx.insertRelease({project, name, 1, app.spec_json, app.created_at, who.token_id, 0, false, "", ""}));
    BERTH_RETURN_IF_ERROR(tx.appendEvent(ctx_.event(who, "app.create", project,
                                                    appPath(project, name), {{"release", 1}}))
                              .status());
    return withUrls(tx, app);
  }));
  return app;
}

// An unpinned app runs one instance in each of its `replicas` VMs; a project with fewer VMs gets
// new ones, sized like its oldest (or the defaults), within its quota: past it the change is
// refused and nothing is written.
Status AppService::addReplicaVms(store::Tx& tx, const Principal& who, const std::string& project,
                                 const std::string& app, const model::AppSpec& spec) {
  if (spec.vm) return Status::ok();
  BERTH_ASSIGN_OR_RETURN(std::vector<store::Vm> vms, tx.listVmsByAge(project));
  if (static_cast<int64_t>(vms.size()) >= spec.replicas) return Status::ok();
  BERTH_ASSIGN_OR_RETURN(store::Project p, tx.getProject(project));
  BERTH_ASSIGN_OR_RETURN(store::Usage usage, tx.projectUsage(project));
  std::set<std::string> taken;
  for (const auto& vm : vms) taken.insert(vm.name);
  const std::string stem = app.substr(0, std::min<std::size_t>(app.size(), 58));
  const int64_t now = ctx_.clock.wallMillis();
  int suffix = 0;
  for (int64_t missing = spec.replicas - static_cast<int64_t>(vms.size()); missing > 0; --missing) {
    store::Vm vm;
    if (!vms.empty()) vm = vms.front();
    vm.project = project;
    while (taken.count(stem + "-" + std::to_string(++suffix))) {
    }
    vm.name = stem + "-" + std::to_string(suffix);
    taken.insert(vm.name);
    vm.node.reset();
    vm.power = "running";
    vm.state = "pending";
    vm.state_detail.clear();
    vm.restart_generation = 0;
    vm.version = 1;
    vm.created_at = vm.updated_at = now;
    addToUsage(usage, vm);
    Status fits = checkUsageWithinQuota(project, p.quotas, usage);
    if (!fits.isOk()) {
      return fits.withContext("app '" + app + "' needs " + std::to_string(spec.replicas) + " VMs for its replicas and " +
                              "the project has " + std::to_string(vms.size()));
    }
    // Sized like the oldest VM, but with an address of its own.
    BERTH_ASSIGN_OR_RETURN(vm.address, addressForNewVm(tx, ctx_, who, p, now));
    BERTH_RETURN_IF_ERROR(tx.insertVm(vm));
    BERTH_RETURN_IF_ERROR(tx.appendEvent(ctx_.event(who, "vm.create", project,
                                                    "projects/" + project + "/vms/" + vm.name,
                                                    {{"vcpus", vm.vcpus}, {"memory_mib", vm.memory_mib},
                                                     {"disk_gib", vm.disk_gib}, {"for_app", app}}))
                              .status());
  }
  return Status::ok();
}

Status AppService::withUrls(store::Tx& tx, store::App& app) const {
  BERTH_ASSIGN_OR_RETURN(auto nodes, tx.listNodes());
  return fillAppUrls(tx, ctx_.base_domain, nodes, app);
}

Result<store::Page<store::App>> AppService::list(const Principal& who, const std::string& project,
                                                 const std::string& after, int limit) {
  BERTH_RETURN_IF_ERROR(authorize(who, project, Access::kRead, "project '" + project + "'"));
  return ctx_.listInProject(project, [&](store::Tx& tx) -> Result<store::Page<store::App>> {
    BERTH_ASSIGN_OR_RETURN(auto page, tx.listApps(project, after, limit));
    BERTH_ASSIGN_OR_RETURN(auto nodes, tx.listNodes());
    for (auto& app : page.items) {
      BERTH_RETURN_IF_ERROR(fillAppUrls(tx, ctx_.base_domain, nodes, app));
    }
    return page;
  });
}

Result<store::App> AppService::get(const Principal& who, const std::string& project, const std::string& name) {
  BERTH_RETURN_IF_ERROR(authorize(who, project, Access::kRead, appObject(project, name)));
  store::App app;
  BERTH_RETURN_IF_ERROR(ctx_.store.read([&](store::Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(app, tx.getApp(project, name));
    BERTH_ASSIGN_OR_RETURN(app.instances, tx.listAppInstances(project, name));
    return withUrls(tx, app);
  }));
  return app;
}

Result<store::App> AppService::update(const Principal& who, const std::string& project, const std::string& name,
                                      const AppSpecPatch& patch, std::optional<int64_t> if_match) {
  BERTH_RETURN_IF_ERROR(authorize(who, project, Access::kDeploy, appObject(project, name)));
  store::App app;
  BERTH_RETURN_IF_ERROR(ctx_.store.write([&](store::Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(app, tx.getApp(project, name));
    BERTH_RETURN_IF_ERROR(checkVersion(if_match, app.version, appObject(project, name)));
    BERTH_ASSIGN_OR_RETURN(model::AppSpec current, model::appSpecFromJson(app.spec_json));
    model::AppSpec next = applyPatch(current, patch);
    BERTH_RETURN_IF_ERROR(model::validateAppSpec(next));
    if (next.vm) BERTH_RETURN_IF_ERROR(tx.getVm(project, *next.vm).status());
    BERTH_RETURN_IF_ERROR(resolveSecretVersions(tx, project, next));
    BERTH_RETURN_IF_ERROR(checkImageImported(tx, project, next));
    // Releases are immutable and numbered: a change that changes nothing makes none.
    if (next == current) return withUrls(tx, app);
    BERTH_RETURN_IF_ERROR(claimHostPorts(tx, ctx_.host_ports, project, name, next, ctx_.clock.wallMillis()));
    BERTH_RETURN_IF_ERROR(addReplicaVms(tx, who, project, name, next));
    BERTH_RETURN_IF_ERROR(
        activateRelease(tx, app, model::appSpecToJson(next).dump(), who.token_id, ctx_.clock.wallMillis()));
    BERTH_RETURN_IF_ERROR(
        tx.appendEvent(ctx_.event(who, "app.update", project, appPath(project, name),
                                  {{"release", app.release}}))
            .status());
    return withUrls(tx, app);
  }));
  return app;
}

Status AppService::remove(const Principal& who, const std::string& project, const std::string& name,
                          std::optional<int64_t> if_match) {
  BERTH_RETURN_IF_ERROR(authorize(who, project, Access::kDeploy, appObject(project, name)));
  return ctx_.store.write([&](store::Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(store::App app, tx.getApp(project, name));
    BERTH_RETURN_IF_ERROR(checkVersion(if_match, app.version, appObject(project, name)));
    BERTH_RETURN_IF_ERROR(tx.deleteApp(project, name));
    return tx.appendEvent(ctx_.event(who, "app.delete", project, appPath(project, name))).status();
  });
}

Result<store::Page<store::Release>> AppService::listReleases(const Principal& who, const std::string& project,
                                                             const std::string& app, int64_t before, int limit) {
  BERTH_RETURN_IF_ERROR(authorize(who, project, Access::kRead, appObject(project, app)));
  store::Page<store::Release> page;
  BERTH_RETURN_IF_ERROR(ctx_.store.read([&](store::Tx& tx) {
    BERTH_RETURN_IF_ERROR(tx.getApp(project, app).status());
    BERTH_ASSIGN_OR_RETURN(page, tx.listReleases(project, app, before, limit));
    return Status::ok();
  }));
  return page;
}

Result<store::App> AppService::rollback(const Principal& who, const std::string& project, const std::string& name,
                                        std::optional<int64_t> to, std::optional<int64_t> if_match) {
  BERTH_RETURN_IF_ERROR(authorize(who, project, Access::kDeploy, appObject(project, name)));
  store::App app;
  BERTH_RETURN_IF_ERROR(ctx_.store.write([&](store::Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(app, tx.getApp(project, name));
    BERTH_RETURN_IF_ERROR(checkVersion(if_match, app.version, appObject(project, name)));
    int64_t target = to.value_or(app.release - 1);
    if (target < 1) return failedPrecondition("app '" + name + "' has no release before " + std::to_string(app.release));
    if (target == app.release) {
      return failedPrecondition("app '" + name + "' is already at release " + std::to_string(target));
    }
    BERTH_ASSIGN_OR_RETURN(store::Release old, tx.getRelease(project, name, target));
    BERTH_ASSIGN_OR_RETURN(model::AppSpec old_spec, model::appSpecFromJson(old.spec_json));
    if (auto ref = deletedSecret(tx, project, old_spec)) {
      return failedPrecondition("release " + std::to_string(target) + " uses secret '" + ref->name + "' version " +
                                std::to_string(ref->version) + ", which was deleted; set it again and deploy instead");
    }
    BERTH_RETURN_IF_ERROR(claimHostPorts(tx, ctx_.host_ports, project, name, old_spec, ctx_.clock.wallMillis()));
    BERTH_RETURN_IF_ERROR(activateRelease(tx, app, old.spec_json, who.token_id, ctx_.clock.wallMillis(), target));
    BERTH_RETURN_IF_ERROR(
        tx.appendEvent(ctx_.event(who, "app.rollback", project, appPath(project, name),
                                  {{"release", app.release}, {"from_release", target}}))
            .status());
    return withUrls(tx, app);
  }));
  return app;
}

}  // namespace berth::controlplane
