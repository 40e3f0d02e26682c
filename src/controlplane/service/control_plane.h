#pragma once
// The control plane's executor: typed commands in, store transactions out. Every mutation is
// authorized, validated against quotas and current state, written together with its audit
// event in one transaction, and durable when the call returns. The HTTP layer parses requests
// into these commands and renders the results; nothing here knows about HTTP.
//
// Thread-safe: all state lives in the Store.

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "common/clock.h"
#include "common/secret_box.h"
#include "controlplane/auth/principal.h"
#include "controlplane/service/app_spec_patch.h"
#include "model/node_protocol.h"
#include "controlplane/service/image_importer.h"
#include "store/store.h"

namespace berth::controlplane {

struct ProjectView {
  store::Project project;
  store::Usage usage;
};

struct CreatedToken {
  store::Token token;
  std::string secret;  // shown once, never stored
};

struct QuotaPatch {
  std::optional<int64_t> vcpus, memory_mib, disk_gib, vms;
};

struct VmPatch {
  std::optional<int64_t> vcpus, memory_mib, disk_gib;
  std::optional<std::string> machine, power;
};

enum class PowerAction { kStart, kStop, kRestart };

// What `berth secret set` changed: the new version, and the apps that got a release for it.
struct SecretSet {
  store::Secret secret;
  std::vector<std::string> apps_released;
};

// Where a session (exec, logs, console) must run: the VM and the node that has it.
struct SessionTarget {
  std::string vm, node;
};

// `if_match` arguments: the version the caller last saw; nullopt skips the check.
class ControlPlane {
 public:
  ControlPlane(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // The master key secrets are sealed under. Without one, secrets answer Unavailable.
  void useSecretBox(SecretBox box) { secret_box_ = std::move(box); }
  // What imports images. Without one, imports answer Unavailable. Not owned; must outlive this.
  void useImageImporter(ImageImporter* importer) { image_importer_ = importer; }

  // Authenticates a bearer secret; Unauthenticated if unknown or revoked.
  Result<Principal> authenticate(const std::string& secret);
  // Creates the first admin token if the store has no tokens; returns its secret then, else nullopt.
  Result<std::optional<std::string>> bootstrapAdminToken();

  Result<CreatedToken> createToken(const Principal& who, const std::string& name, Role role,
                                   const std::optional<std::string>& project);
  Result<store::Page<store::Token>> listTokens(const Principal& who, const std::string& after, int limit);
  Status deleteToken(const Principal& who, const std::string& id);

  Result<ProjectView> createProject(const Principal& who, const std::string& name, const QuotaPatch& quotas);
  Result<store::Page<ProjectView>> listProjects(const Principal& who, const std::string& after, int limit);
  Result<ProjectView> getProject(const Principal& who, const std::string& name);
  Result<ProjectView> updateProject(const Principal& who, const std::string& name, const QuotaPatch& quotas,
                                    std::optional<int64_t> if_match);
  Status deleteProject(const Principal& who, const std::string& name, std::optional<int64_t> if_match);

  Result<store::Vm> createVm(const Principal& who, store::Vm vm);
  Result<store::Page<store::Vm>> listVms(const Principal& who, const std::string& project, const std::string& after,
                                         int limit);
  Result<store::Vm> getVm(const Principal& who, const std::string& project, const std::string& name);
  Result<store::Vm> updateVm(const Principal& who, const std::string& project, const std::string& name,
                             const VmPatch& patch, std::optional<int64_t> if_match);
  Result<store::Vm> powerVm(const Principal& who, const std::string& project, const std::string& name,
                            PowerAction action, std::optional<int64_t> if_match);
  Status deleteVm(const Principal& who, const std::string& project, const std::string& name,
                  std::optional<int64_t> if_match);

  Result<store::App> createApp(const Principal& who, const std::string& project, const std::string& name,
                               const AppSpecPatch& spec);
  Result<store::Page<store::App>> listApps(const Principal& who, const std::string& project,
                                           const std::string& after, int limit);
  Result<store::App> getApp(const Principal& who, const std::string& project, const std::string& name);
  Result<store::App> updateApp(const Principal& who, const std::string& project, const std::string& name,
                               const AppSpecPatch& patch, std::optional<int64_t> if_match);
  Status deleteApp(const Principal& who, const std::string& project, const std::string& name,
                   std::optional<int64_t> if_match);
  Result<store::Page<store::Release>> listReleases(const Principal& who, const std::string& project,
                                                   const std::string& app, int64_t before, int limit);
  // Makes a new release whose spec is release `to`'s (default: the one before the current).
  Result<store::App> rollbackApp(const Principal& who, const std::string& project, const std::string& app,
                                 std::optional<int64_t> to, std::optional<int64_t> if_match);

  // Nodes. An agent registers (idempotently) on every start, long-polls its assignment and
  // reports what it observes; the report doubles as the heartbeat.
  Result<store::Node> registerNode(const Principal& who, store::Node node);
  Result<std::vector<store::Node>> listNodes(const Principal& who);
  Result<store::Node> drainNode(const Principal& who, const std::string& name);
  Result<model::NodeAssignment> nodeAssignment(const Principal& who, const std::string& node);
  Status reportNodeStatus(const Principal& who, const std::string& node, const std::vector<model::VmObservation>& vms,
                          const std::vector<model::AppObservation>& apps = {});

  // Sessions relayed to agents. Exec needs a deployer and a running VM and is audited
  // (`app.exec`, with its command); logs need a viewer; the console shows everything the
  // guest prints, so it needs a deployer. Each answers with the node to relay to.
  // `instance` names the VM of one of the app's instances; empty: the first of its VMs that runs.
  Result<SessionTarget> execTarget(const Principal& who, const std::string& project, const std::string& app,
                                   const std::vector<std::string>& command, const std::string& instance = "");
  Result<SessionTarget> logsTarget(const Principal& who, const std::string& project, const std::string& app,
                                   const std::string& instance = "");
  Result<SessionTarget> consoleTarget(const Principal& who, const std::string& project, const std::string& vm);

  // Secrets of a project. Values go in and are sealed at once; nothing returns them except a
  // node's assignment. Setting one gives every app that uses it a new release; deleting one
  // that an app uses is refused. Deployers set and delete; viewers see names and versions.
  Result<SecretSet> setSecret(const Principal& who, const std::string& project, const std::string& name,
                              const std::string& value);
  Result<std::vector<store::Secret>> listSecrets(const Principal& who, const std::string& project);
  Status deleteSecret(const Principal& who, const std::string& project, const std::string& name);

  // Images of a project. Importing needs a deployer; the work (which may take minutes) runs in
  // the caller's thread and reports its steps to `progress`. Importing an image the project
  // already has, or one berthd converted for another project, does no conversion (`cached`).
  Result<std::pair<store::Image, bool>> importImage(const Principal& who, const std::string& project,
                                                    const std::string& source, const std::string& source_label,
                                                    const std::function<void(const ImportStep&)>& progress);
  Result<std::vector<store::Image>> listImages(const Principal& who, const std::string& project);
  // Checked before an import starts streaming, so a refusal is a plain 4xx.
  Status authorizeImageImport(const Principal& who, const std::string& project);

  // Events visible to `who` (project tokens see only their project's).
  Result<std::vector<store::Event>> listEvents(const Principal& who, int64_t after,
                                               const std::optional<std::string>& project, int limit);
  // The project filter a follower of the event stream must use; errors as listEvents.
  Result<std::optional<std::string>> eventScope(const Principal& who, const std::optional<std::string>& project);

  store::Store& store() { return store_; }

 private:
  store::Event event(const Principal& who, std::string action, std::optional<std::string> project,
                     std::string object, nlohmann::json details = nlohmann::json::object()) const;
  Result<store::Token> makeToken(const std::string& name, Role role, const std::optional<std::string>& project,
                                 const std::string& created_by, std::string* secret) const;
  // Called after a commit that removed tokens: no cached principal may outlive its token.
  void forgetPrincipals();
  // Gives each of `spec`'s secrets without a version its newest one; InvalidArgument naming a
  // secret the project does not have.
  Status resolveSecretVersions(store::Tx& tx, const std::string& project, model::AppSpec& spec) const;
  // The values of `spec`'s secrets at their versions.
  Result<std::vector<model::SecretValue>> openSecrets(store::Tx& tx, const std::string& project, const model::AppSpec& spec) const;
  // Every app of the project, page by page, in the caller's transaction.
  static Result<std::vector<store::App>> allApps(store::Tx& tx, const std::string& project);
  // A container app's image must have been imported into its project.
  static Status checkImage(store::Tx& tx, const std::string& project, const model::AppSpec& spec);
  // An agent saw a release of `app` fail its rollout: records it, and makes a release that
  // restores the one still serving (or the newest that ever ran), unless the failed one was
  // itself such a rollback.
  Status recordAppOutcome(store::Tx& tx, const Principal& who, store::App app, const model::AppObservation& o);
  Status addReplicaVms(store::Tx& tx, const Principal& who, const std::string& project, const std::string& app,
                       const model::AppSpec& spec);
  Status recordInstance(store::Tx& tx, const Principal& who, const std::string& node, const model::AppObservation& o);

  store::Store& store_;
  const Clock& clock_;
  std::optional<SecretBox> secret_box_;
  ImageImporter* image_importer_ = nullptr;

  // Principals by token hash, so a request costs no store read to authenticate. A lookup that
  // raced with a revocation sees a newer generation and does not cache what it read.
  // (Several berthd replicas on PostgreSQL will invalidate through LISTEN/NOTIFY.)
  std::mutex principals_mu_;
  std::unordered_map<std::string, Principal> principals_;
  uint64_t principals_generation_ = 0;
};

// The version in an If-Match check, or VersionMismatch naming the object.
Status checkVersion(std::optional<int64_t> if_match, int64_t current, const std::string& object);

}  // namespace berth::controlplane
