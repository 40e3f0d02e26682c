#pragma once
// Apps of a project and their releases. Every change to an app's spec that changes something is
// a new, numbered, immutable release; a rollback is a new release with an older one's spec. An
// unpinned app with more replicas than the project has VMs gets new VMs, within the quota.
// Deployers change apps, viewers read them. Every change is written with its audit event in one
// transaction. What rollouts report back is recorded by NodeService (releases.h).
//
// Thread-safe: all state lives in the Store.

#include <optional>
#include <string>

#include "common/result.h"
#include "controlplane/service/app_spec_patch.h"
#include "controlplane/service/service_context.h"

namespace berth::controlplane {

class AppService {
 public:
  // `context` must outlive this.
  explicit AppService(const ServiceContext& context) : ctx_(context) {}

  Result<store::App> create(const Principal& who, const std::string& project, const std::string& name,
                            const AppSpecPatch& spec);
  // The apps returned by every call come with where they answer (store::App::domains, urls).
  Result<store::Page<store::App>> list(const Principal& who, const std::string& project, const std::string& after,
                                       int limit);
  // With its instances.
  Result<store::App> get(const Principal& who, const std::string& project, const std::string& name);
  Result<store::App> update(const Principal& who, const std::string& project, const std::string& name,
                            const AppSpecPatch& patch, std::optional<int64_t> if_match);
  Status remove(const Principal& who, const std::string& project, const std::string& name,
                std::optional<int64_t> if_match);
  Result<store::Page<store::Release>> listReleases(const Principal& who, const std::string& project,
                                                   const std::string& app, int64_t before, int limit);
  // Makes a new release whose spec is release `to`'s (default: the one before the current).
  Result<store::App> rollback(const Principal& who, const std::string& project, const std::string& app,
                              std::optional<int64_t> to, std::optional<int64_t> if_match);

 private:
  Status addReplicaVms(store::Tx& tx, const Principal& who, const std::string& project, const std::string& app,
                       const model::AppSpec& spec);
  // Fills in where `app` answers, in the caller's transaction (app_urls.h).
  Status withUrls(store::Tx& tx, store::App& app) const;

  const ServiceContext& ctx_;
};

}  // namespace berth::controlplane
