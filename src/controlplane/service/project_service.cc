#include "controlplane/service/project_service.h"

#include "controlplane/service/project_network.h"
#include "controlplane/service/quota.h"

namespace berth::controlplane {

namespace {
nlohmann::json quotasJson(const store::Quotas& q) {
  return {{"vcpus", q.vcpus}, {"memory_mib", q.memory_mib}, {"disk_gib", q.disk_gib}, {"vms", q.vms}};
}

store::Quotas applyQuotaPatch(store::Quotas q, const QuotaPatch& p) {
  if (p.vcpus) q.vcpus = *p.vcpus;
  if (p.memory_mib) q.memory_mib = *p.memory_mib;
  if (p.disk_gib) q.disk_gib = *p.disk_gib;
  if (p.vms) q.vms = *p.vms;
  return q;
}

std::string projectObject(const std::string& name) { return "project '" + name + "'"; }

nlohmann::json projectDetails(const store::Project& p) {
  return {{"quotas", quotasJson(p.quotas)}, {"subnet", p.subnet}, {"egress", p.egress}};
}
}  // namespace

Result<ProjectView> ProjectService::create(const Principal& who, const std::string& name, const ProjectPatch& patch) {
  BERTH_RETURN_IF_ERROR(authorize(who, std::nullopt, Access::kAdminOnly, projectObject(name)));
  store::Project p;
  p.name = name;
  p.quotas = applyQuotaPatch(store::Quotas{}, patch.quotas);
  if (patch.egress) p.egress = *patch.egress;
  p.version = 1;
  p.created_at = p.updated_at = ctx_.clock.wallMillis();
  BERTH_RETURN_IF_ERROR(ctx_.store.write([&](store::Tx& tx) {
    // An existing name is refused as such, not as a full pool.
    if (tx.getProject(name).isOk()) return alreadyExists(projectObject(name) + " already exists");
    BERTH_ASSIGN_OR_RETURN(p.subnet, newProjectSubnet(tx, ctx_.networks));
    BERTH_RETURN_IF_ERROR(tx.insertProject(p));
    return tx.appendEvent(ctx_.event(who, "project.create", name, "projects/" + name, projectDetails(p))).status();
  }));
  return ProjectView{p, {}};
}

Result<store::Page<ProjectView>> ProjectService::list(const Principal& who, const std::string& after, int limit) {
  store::Page<ProjectView> out;
  BERTH_RETURN_IF_ERROR(ctx_.store.read([&](store::Tx& tx) {
    store::Page<store::Project> page;
    if (who.role == Role::kAdmin) {
      BERTH_ASSIGN_OR_RETURN(page, tx.listProjects(after, limit));
    } else if (who.project && *who.project > after) {
      auto own = tx.getProject(*who.project);
      if (own.isOk()) page.items.push_back(std::move(own).value());
    }
    out.next = page.next;
    if (page.items.empty()) return Status::ok();
    BERTH_ASSIGN_OR_RETURN(auto usages, tx.projectUsages(page.items.front().name, page.items.back().name));
    for (auto& p : page.items) {
      auto it = usages.find(p.name);
      out.items.push_back({std::move(p), it == usages.end() ? store::Usage{} : it->second});
    }
    return Status::ok();
  }));
  return out;
}

Result<ProjectView> ProjectService::get(const Principal& who, const std::string& name) {
  BERTH_RETURN_IF_ERROR(authorize(who, name, Access::kRead, projectObject(name)));
  ProjectView view;
  BERTH_RETURN_IF_ERROR(ctx_.store.read([&](store::Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(view.project, tx.getProject(name));
    BERTH_ASSIGN_OR_RETURN(view.usage, tx.projectUsage(name));
    return Status::ok();
  }));
  return view;
}

Result<ProjectView> ProjectService::update(const Principal& who, const std::string& name, const ProjectPatch& patch,
                                           std::optional<int64_t> if_match) {
  BERTH_RETURN_IF_ERROR(authorize(who, name, Access::kRead, projectObject(name)));
  BERTH_RETURN_IF_ERROR(authorize(who, std::nullopt, Access::kAdminOnly, projectObject(name)));
  ProjectView view;
  BERTH_RETURN_IF_ERROR(ctx_.store.write([&](store::Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(store::Project p, tx.getProject(name));
    BERTH_RETURN_IF_ERROR(checkVersion(if_match, p.version, projectObject(name)));
    BERTH_ASSIGN_OR_RETURN(view.usage, tx.projectUsage(name));
    p.quotas = applyQuotaPatch(p.quotas, patch.quotas);
    if (patch.egress) p.egress = *patch.egress;
    BERTH_RETURN_IF_ERROR(checkQuotaNotBelowUsage(name, p.quotas, view.usage));
    p.updated_at = ctx_.clock.wallMillis();
    BERTH_RETURN_IF_ERROR(tx.updateProject(p, p.version));
    p.version += 1;
    view.project = p;
    return tx.appendEvent(ctx_.event(who, "project.update", name, "projects/" + name, projectDetails(p))).status();
  }));
  return view;
}

Status ProjectService::remove(const Principal& who, const std::string& name, std::optional<int64_t> if_match) {
  BERTH_RETURN_IF_ERROR(authorize(who, name, Access::kRead, projectObject(name)));
  BERTH_RETURN_IF_ERROR(authorize(who, std::nullopt, Access::kAdminOnly, projectObject(name)));
  Status s = ctx_.store.write([&](store::Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(store::Project p, tx.getProject(name));
    BERTH_RETURN_IF_ERROR(checkVersion(if_match, p.version, projectObject(name)));
    BERTH_ASSIGN_OR_RETURN(store::Usage usage, tx.projectUsage(name));
    BERTH_ASSIGN_OR_RETURN(int64_t apps, tx.countApps(name));
    if (usage.vms > 0 || apps > 0) {
      return failedPrecondition("project '" + name + "' still has " + std::to_string(usage.vms) + " VM(s) and " +
                                std::to_string(apps) + " app(s); delete them first");
    }
    BERTH_RETURN_IF_ERROR(tx.deleteProject(name));
    return tx.appendEvent(ctx_.event(who, "project.delete", name, "projects/" + name)).status();
  });
  // The project's tokens went with it.
  if (s.isOk()) tokens_.forgetPrincipals();
  return s;
}

Status ProjectService::allocateMissingNetworks(const Principal& who) {
  std::vector<std::string> names;
  std::string after;
  do {
    store::Page<store::Project> page;
    BERTH_RETURN_IF_ERROR(ctx_.store.read([&](store::Tx& tx) {
      BERTH_ASSIGN_OR_RETURN(page, tx.listProjects(after, 500));
      return Status::ok();
    }));
    for (const auto& p : page.items) names.push_back(p.name);
    after = page.next;
  } while (!after.empty());

  Status first_failure;
  for (const auto& name : names) {
    Status s = ctx_.store.write([&](store::Tx& tx) {
      auto p = tx.getProject(name);
      if (!p.isOk()) return Status::ok();  // deleted meanwhile
      const int64_t now = ctx_.clock.wallMillis();
      BERTH_ASSIGN_OR_RETURN(bool allocated, ensureProjectSubnet(tx, ctx_.networks, *p, now));
      BERTH_ASSIGN_OR_RETURN(auto addressed, addressUnaddressedVms(tx, *p, now));
      if (!allocated && addressed.empty()) return Status::ok();
      return tx.appendEvent(ctx_.event(who, "project.network", name, "projects/" + name,
                                       {{"subnet", p->subnet}, {"addressed_vms", addressed}}))
          .status();
    });
    if (!s.isOk() && first_failure.isOk()) first_failure = s.withContext(projectObject(name));
  }
  return first_failure;
}

}  // namespace berth::controlplane
