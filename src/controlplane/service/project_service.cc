#include "controlplane/service/project_service.h"

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
}  // namespace

Result<ProjectView> ProjectService::create(const Principal& who, const std::string& name, const QuotaPatch& quotas) {
  BERTH_RETURN_IF_ERROR(authorize(who, std::nullopt, Access::kAdminOnly, projectObject(name)));
  store::Project p;
  p.name = name;
  p.quotas = applyQuotaPatch(store::Quotas{}, quotas);
  p.version = 1;
  p.created_at = p.updated_at = ctx_.clock.wallMillis();
  BERTH_RETURN_IF_ERROR(ctx_.store.write([&](store::Tx& tx) {
    BERTH_RETURN_IF_ERROR(tx.insertProject(p));
    return tx.appendEvent(ctx_.event(who, "project.create", name, "projects/" + name,
                                     {{"quotas", quotasJson(p.quotas)}}))
        .status();
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

Result<ProjectView> ProjectService::update(const Principal& who, const std::string& name, const QuotaPatch& quotas,
                                           std::optional<int64_t> if_match) {
  BERTH_RETURN_IF_ERROR(authorize(who, name, Access::kRead, projectObject(name)));
  BERTH_RETURN_IF_ERROR(authorize(who, std::nullopt, Access::kAdminOnly, projectObject(name)));
  ProjectView view;
  BERTH_RETURN_IF_ERROR(ctx_.store.write([&](store::Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(store::Project p, tx.getProject(name));
    BERTH_RETURN_IF_ERROR(checkVersion(if_match, p.version, projectObject(name)));
    BERTH_ASSIGN_OR_RETURN(view.usage, tx.projectUsage(name));
    p.quotas = applyQuotaPatch(p.quotas, quotas);
    BERTH_RETURN_IF_ERROR(checkQuotaNotBelowUsage(name, p.quotas, view.usage));
    p.updated_at = ctx_.clock.wallMillis();
    BERTH_RETURN_IF_ERROR(tx.updateProject(p, p.version));
    p.version += 1;
    view.project = p;
    return tx.appendEvent(ctx_.event(who, "project.update", name, "projects/" + name,
                                     {{"quotas", quotasJson(p.quotas)}}))
        .status();
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

}  // namespace berth::controlplane
