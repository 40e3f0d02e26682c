#pragma once
// Domains of a project: host names the nodes' ingress routes to one of its apps (docs/networking.md
// "Domains"). A name is held by one app of one project across the whole cluster, so no tenant can
// take traffic meant for another's; a taken name is refused without saying who holds it. Names
// under berthd's --base-domain are the apps' default names (<app>.<project>.<base-domain>) and
// cannot be added. Deployers add and remove; viewers list. Every change is written with its audit
// event in one transaction; an app's domains go with it when it is deleted.
//
// Thread-safe: all state lives in the Store.

#include <string>
#include <vector>

#include "common/result.h"
#include "controlplane/service/service_context.h"

namespace berth::controlplane {

// What DomainService::add did: the domain, and whether it was new (re-adding a name to the app
// that already has it changes nothing).
struct DomainAdded {
  store::Domain domain;
  bool created = false;
};

class DomainService {
 public:
  static constexpr int64_t kMaxPerProject = 100;

  // `context` must outlive this.
  explicit DomainService(const ServiceContext& context) : ctx_(context) {}

  // Routes `name` (normalized: lowercase, no trailing dot) to `app`. InvalidArgument for a name
  // that is not a host name or is under the base domain; NotFound for a missing project or app;
  // Conflict when another app (of any project) holds it; FailedPrecondition past kMaxPerProject.
  Result<DomainAdded> add(const Principal& who, const std::string& project, const std::string& app,
                          const std::string& name);
  // The project's domains, by name.
  Result<std::vector<store::Domain>> list(const Principal& who, const std::string& project);
  // NotFound unless the project holds `name`.
  Status remove(const Principal& who, const std::string& project, const std::string& name);

 private:
  const ServiceContext& ctx_;
};

// The host names the ingress routes to `app`, in the caller's transaction: its domains, and its
// default name <app>.<project>.<base_domain> when berthd has a base domain; sorted, unique.
Result<std::vector<std::string>> appDomains(store::Tx& tx, const std::string& base_domain,
                                            const std::string& project, const std::string& app);

}  // namespace berth::controlplane
