#pragma once
// Projects: the unit of tenancy and quota. Admins create, change and delete them; a project
// token sees only its own. A project is deleted only when empty, and its tokens go with it.
// Every change is written with its audit event in one transaction.
//
// Thread-safe: all state lives in the Store.

#include <optional>
#include <string>

#include "common/result.h"
#include "controlplane/service/service_context.h"
#include "controlplane/service/token_service.h"

namespace berth::controlplane {

struct ProjectView {
  store::Project project;
  store::Usage usage;
};

struct QuotaPatch {
  std::optional<int64_t> vcpus, memory_mib, disk_gib, vms;
};

// What a project create or update sets besides its name.
struct ProjectPatch {
  QuotaPatch quotas;
  std::optional<std::string> egress;  // allow | deny (validated by the API layer)
};

class ProjectService {
 public:
  // `tokens` forgets the cached principals of a deleted project. Both must outlive this.
  ProjectService(const ServiceContext& context, TokenService& tokens) : ctx_(context), tokens_(tokens) {}

  // The project gets the lowest free subnet of the pool; FailedPrecondition when it is full.
  Result<ProjectView> create(const Principal& who, const std::string& name, const ProjectPatch& patch);
  Result<store::Page<ProjectView>> list(const Principal& who, const std::string& after, int limit);
  Result<ProjectView> get(const Principal& who, const std::string& name);
  Result<ProjectView> update(const Principal& who, const std::string& name, const ProjectPatch& patch,
                             std::optional<int64_t> if_match);
  Status remove(const Principal& who, const std::string& name, std::optional<int64_t> if_match);
  // At startup: gives every project made before networks a subnet and each of its VMs an
  // address, one transaction and one `project.network` event by `who` per project changed.
  // A project the full pool cannot serve is skipped and named in the error; the others proceed.
  Status allocateMissingNetworks(const Principal& who);

 private:
  const ServiceContext& ctx_;
  TokenService& tokens_;
};

}  // namespace berth::controlplane
