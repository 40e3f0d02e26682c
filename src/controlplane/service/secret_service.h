#pragma once
// Secrets of a project. Values go in and are sealed at once under berthd's master key; nothing
// returns them except a node's assignment (NodeService, through open()). Setting one gives
// every app that uses it a new release; deleting one that an app uses is refused. Deployers set
// and delete; viewers see names and versions. Every change is written with its audit event in
// one transaction.
//
// Thread-safe once configured: all state lives in the Store; give the master key
// (useSecretBox) before the first call.

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/secret_box.h"
#include "controlplane/service/service_context.h"
#include "model/node_protocol.h"

namespace berth::controlplane {

// What `berth secret set` changed: the new version, and the apps that got a release for it.
struct SecretSet {
  store::Secret secret;
  std::vector<std::string> apps_released;
};

class SecretService {
 public:
  // `context` must outlive this.
  explicit SecretService(const ServiceContext& context) : ctx_(context) {}

  // The master key secrets are sealed under. Without one, secrets answer Unavailable.
  void useSecretBox(SecretBox box) { secret_box_ = std::move(box); }

  Result<SecretSet> set(const Principal& who, const std::string& project, const std::string& name,
                        const std::string& value);
  Result<std::vector<store::Secret>> list(const Principal& who, const std::string& project);
  Status remove(const Principal& who, const std::string& project, const std::string& name);

  // The values of `spec`'s secrets at their versions, in the caller's transaction (a node's
  // assignment); Unavailable without a master key.
  Result<std::vector<model::SecretValue>> open(store::Tx& tx, const std::string& project,
                                               const model::AppSpec& spec) const;

 private:
  const ServiceContext& ctx_;
  std::optional<SecretBox> secret_box_;
};

// Gives each of `spec`'s secrets without a version its newest one, in the caller's transaction;
// InvalidArgument naming a secret the project does not have.
Status resolveSecretVersions(store::Tx& tx, const std::string& project, model::AppSpec& spec);

}  // namespace berth::controlplane
