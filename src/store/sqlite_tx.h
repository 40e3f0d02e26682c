#pragma once
// Tx over one SQLite connection; the caller (SqliteStore) owns BEGIN/COMMIT.

#include "store/sqlite_db.h"
#include "store/store.h"

namespace berth::store {

class SqliteTx final : public Tx {
 public:
  explicit SqliteTx(SqliteDb& db) : db_(db) {}

  Result<Project> getProject(const std::string& name) override;
  Result<Page<Project>> listProjects(const std::string& after, int limit) override;
  Status insertProject(const Project& p) override;
  Status updateProject(const Project& p, int64_t expected_version) override;
  Status deleteProject(const std::string& name) override;
  Result<std::vector<std::string>> listProjectSubnets() override;
  Result<Usage> projectUsage(const std::string& project) override;
  Result<std::map<std::string, Usage>> projectUsages(const std::string& first, const std::string& last) override;
  Result<int64_t> countApps(const std::string& project) override;

  Result<Vm> getVm(const std::string& project, const std::string& name) override;
  Result<Page<Vm>> listVms(const std::string& project, const std::string& after, int limit) override;
  Result<std::vector<Vm>> listVmsByAge(const std::string& project) override;
  Status insertVm(const Vm& vm) override;
  Status updateVm(const Vm& vm, int64_t expected_version) override;
  Status deleteVm(const std::string& project, const std::string& name) override;
  Status setAppObserved(const std::string& project, const std::string& name, int64_t release,
                        const std::string& state, const std::string& detail) override;
  Status setVmObserved(const std::string& project, const std::string& name, const std::string& state,
                       const std::string& detail) override;
  Result<std::vector<Vm>> listVmsOnNode(const std::string& node) override;

  Result<Node> getNode(const std::string& name) override;
  Result<std::vector<Node>> listNodes() override;
  Status upsertNode(const Node& node) override;
  Status updateNode(const Node& node, int64_t expected_version) override;

  Result<App> getApp(const std::string& project, const std::string& name) override;
  Result<Page<App>> listApps(const std::string& project, const std::string& after, int limit) override;
  Result<std::vector<App>> listAppsByAge() override;
  Status insertApp(const App& app) override;
  Status updateApp(const App& app, int64_t expected_version) override;
  Status deleteApp(const std::string& project, const std::string& name) override;
  Result<std::vector<AppInstance>> listAppInstances(const std::string& project, const std::string& app) override;
  Status upsertAppInstance(const AppInstance& instance) override;
  Status deleteAppInstance(const std::string& project, const std::string& app, const std::string& vm) override;

  Result<HostPortClaim> getHostPortClaim(int64_t port) override;
  Result<std::vector<HostPortClaim>> listHostPortClaims(const std::string& project, const std::string& app) override;
  Status insertHostPortClaim(const HostPortClaim& claim) override;
  Status deleteHostPortClaim(int64_t port) override;

  Result<Domain> getDomain(const std::string& name) override;
  Result<std::vector<Domain>> listDomains(const std::string& project) override;
  Status insertDomain(const Domain& domain) override;
  Status deleteDomain(const std::string& name) override;

  Status insertRelease(const Release& r) override;
  Status setReleaseOutcome(const std::string& project, const std::string& app, int64_t number,
                           const std::string& state, const std::string& detail) override;
  Result<Release> getRelease(const std::string& project, const std::string& app, int64_t number) override;
  Result<Page<Release>> listReleases(const std::string& project, const std::string& app, int64_t before,
                                     int limit) override;

  Status insertToken(const Token& t) override;
  Result<Token> getToken(const std::string& id) override;
  Result<Token> getTokenByHash(const std::string& hash) override;
  Result<Page<Token>> listTokens(const std::optional<std::string>& project, const std::string& after,
                                 int limit) override;
  Status deleteToken(const std::string& id) override;
  Result<int64_t> countTokens() override;
  Status insertImage(const Image& image) override;
  Result<Image> getImage(const std::string& project, const std::string& digest) override;
  Result<std::vector<Image>> listImages(const std::string& project) override;
  Status insertSecret(const Secret& s) override;
  Result<Secret> getSecret(const std::string& project, const std::string& name, int64_t version) override;
  Result<std::vector<Secret>> listSecrets(const std::string& project) override;
  Status deleteSecret(const std::string& project, const std::string& name) override;

  Result<int64_t> appendEvent(const Event& e) override;
  Result<std::vector<Event>> listEvents(int64_t after, const std::optional<std::string>& project,
                                        int limit) override;

 private:
  // Runs an UPDATE/DELETE guarded by version; distinguishes a missing row from a stale version.
  Status checkedChange(Statement& st, const std::string& what, bool exists, int64_t stored_version,
                       int64_t expected_version);
  SqliteDb& db_;
};

}  // namespace berth::store
