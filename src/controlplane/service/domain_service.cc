#include "controlplane/service/domain_service.h"

#include <algorithm>
#include <cctype>

#include "controlplane/service/host_name.h"

namespace berth::controlplane {

namespace {
std::string domainPath(const std::string& project, const std::string& name) {
  return "projects/" + project + "/domains/" + name;
}

// Names come from requests: a long one is cut short in messages.
std::string domainNamed(const std::string& name) {
  return "domain '" + (name.size() > 260 ? name.substr(0, 64) + "..." : name) + "'";
}

// The form names are stored in, for lookups of a name that may be spelled otherwise.
std::string lookupForm(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (!name.empty() && name.back() == '.') name.pop_back();
  return name;
}
}  // namespace

Result<DomainAdded> DomainService::add(const Principal& who, const std::string& project,
                                       const std::string& app, const std::string& text) {
  BERTH_RETURN_IF_ERROR(authorize(who, project, Access::kDeploy, "project '" + project + "'"));
  BERTH_ASSIGN_OR_RETURN(std::string name, normalizeHostName(text, domainNamed(lookupForm(text))));
  if (isWithinDomain(name, ctx_.base_domain)) {
    return invalidArgument(domainNamed(name) + " is under berthd's base domain '" + ctx_.base_domain +
                           "', where each app already has its default name (<app>.<project>." +
                           ctx_.base_domain + "); add a name of your own domain instead");
  }
  DomainAdded out;
  out.domain = {name, project, app, ctx_.clock.wallMillis(), who.token_id};
  BERTH_RETURN_IF_ERROR(ctx_.store.write([&](store::Tx& tx) {
    out.created = false;
    BERTH_RETURN_IF_ERROR(tx.getProject(project).status());
    if (auto found = tx.getApp(project, app); !found.isOk()) {
      if (found.status().code() != StatusCode::kNotFound) return found.status();
      return notFound("app '" + app + "' does not exist in project '" + project + "'");
    }
    auto held = tx.getDomain(name);
    if (held.isOk()) {
      if (held->project == project && held->app == app) {
        out.domain = *held;
        return Status::ok();
      }
      // Another project's holder is named to nobody; this project's own is the caller's to see.
      if (held->project != project) return conflict(domainNamed(name) + " is already in use");
      return conflict(domainNamed(name) + " already routes to app '" + held->app +
                      "'; remove it there first (berth domain rm " + name + ")");
    }
    if (held.status().code() != StatusCode::kNotFound) return held.status();
    BERTH_ASSIGN_OR_RETURN(auto existing, tx.listDomains(project));
    if (static_cast<int64_t>(existing.size()) >= kMaxPerProject) {
      return failedPrecondition(
          "project '" + project + "' has " + std::to_string(existing.size()) +
          " domains, the most a project may have; remove one first (berth domain rm NAME)");
    }
    BERTH_RETURN_IF_ERROR(tx.insertDomain(out.domain));
    out.created = true;
    return tx
        .appendEvent(
            ctx_.event(who, "domain.add", project, domainPath(project, name), {{"app", app}}))
        .status();
  }));
  return out;
}

Result<std::vector<store::Domain>> DomainService::list(const Principal& who,
                                                       const std::string& project) {
  BERTH_RETURN_IF_ERROR(authorize(who, project, Access::kRead, "project '" + project + "'"));
  return ctx_.listInProject(project, [&](store::Tx& tx) { return tx.listDomains(project); });
}

Status DomainService::remove(const Principal& who, const std::string& project,
                             const std::string& text) {
  BERTH_RETURN_IF_ERROR(authorize(who, project, Access::kDeploy, "project '" + project + "'"));
  const std::string name = lookupForm(text);
  return ctx_.store.write([&](store::Tx& tx) {
    BERTH_RETURN_IF_ERROR(tx.getProject(project).status());
    auto held = tx.getDomain(name);
    if (!held.isOk() && held.status().code() != StatusCode::kNotFound) return held.status();
    // Another project's name is as absent as one nobody holds.
    if (!held.isOk() || held->project != project) {
      return notFound(domainNamed(name) + " does not exist in project '" + project + "'");
    }
    BERTH_RETURN_IF_ERROR(tx.deleteDomain(name));
    return tx
        .appendEvent(ctx_.event(who, "domain.remove", project, domainPath(project, name),
                                {{"app", held->app}}))
        .status();
  });
}

Result<std::vector<std::string>> appDomains(store::Tx& tx, const std::string& base_domain,
                                            const std::string& project, const std::string& app) {
  BERTH_ASSIGN_OR_RETURN(auto domains, tx.listDomains(project));
  std::vector<std::string> out;
  for (const auto& d : domains) {
    if (d.app == app) out.push_back(d.name);
  }
  if (!base_domain.empty()) out.push_back(app + "." + project + "." + base_domain);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace berth::controlplane
