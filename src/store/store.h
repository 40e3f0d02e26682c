#pragma once
// The Store interface: durable desired state. Backends: SQLite (embedded default) and, later,
// PostgreSQL; the control plane sees only this file.
//
// Work happens in transactions handed to read() or write(). A transaction either happens fully
// or not at all: if the function returns a non-ok Status, every change it made is rolled back.
// write() returns only once the transaction is durable (fsynced), so an acknowledged API write
// survives a crash. Backends may commit several concurrent write() calls together (group
// commit); each still succeeds or fails on its own.
//
// Thread-safety: Store is safe to use from any number of threads. A Tx is only valid inside
// the function it is passed to, on that thread.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "store/model.h"

namespace berth::store {

// Operations inside one transaction. Mutations are legal only in a write transaction.
// Lookups of a missing object return NotFound with a message naming it; inserts of an
// existing key return AlreadyExists; updates check `expected_version` and return
// VersionMismatch when the stored version differs (and bump the version on success).
class Tx {
 public:
  virtual ~Tx() = default;

  virtual Result<Project> getProject(const std::string& name) = 0;
  virtual Result<Page<Project>> listProjects(const std::string& after, int limit) = 0;
  virtual Status insertProject(const Project& p) = 0;
  virtual Status updateProject(const Project& p, int64_t expected_version) = 0;
  // Removes the project with its releases and tokens; the caller ensures it has no VMs or apps.
  virtual Status deleteProject(const std::string& name) = 0;
  // The subnets allocated to projects (those with none yet left out).
  virtual Result<std::vector<std::string>> listProjectSubnets() = 0;
  virtual Result<Usage> projectUsage(const std::string& project) = 0;
  // Usage of every project whose name is in [first, last], in one query (for list pages);
  // projects without VMs are absent from the map.
  virtual Result<std::map<std::string, Usage>> projectUsages(const std::string& first, const std::string& last) = 0;
  virtual Result<int64_t> countApps(const std::string& project) = 0;

  virtual Result<Vm> getVm(const std::string& project, const std::string& name) = 0;
  virtual Result<Page<Vm>> listVms(const std::string& project, const std::string& after, int limit) = 0;
  // Every VM of the project, oldest first (ties by name): the order apps are placed in.
  virtual Result<std::vector<Vm>> listVmsByAge(const std::string& project) = 0;
  virtual Status insertVm(const Vm& vm) = 0;
  virtual Status updateVm(const Vm& vm, int64_t expected_version) = 0;
  virtual Status deleteVm(const std::string& project, const std::string& name) = 0;
  // Records what an agent observed; not a desired-state change, so the version stays.
  // What the app's agent reports: the release it runs and that release's state.
  virtual Status setAppObserved(const std::string& project, const std::string& name, int64_t release,
                                const std::string& state, const std::string& detail) = 0;
  virtual Status setVmObserved(const std::string& project, const std::string& name, const std::string& state,
                               const std::string& detail) = 0;
  // VMs placed on `node` (all projects), or with no node when `node` is empty.
  virtual Result<std::vector<Vm>> listVmsOnNode(const std::string& node) = 0;

  virtual Result<Node> getNode(const std::string& name) = 0;
  virtual Result<std::vector<Node>> listNodes() = 0;
  // Inserts the node, or refreshes address, capacity, ingress and heartbeat of an existing one.
  virtual Status upsertNode(const Node& node) = 0;
  virtual Status updateNode(const Node& node, int64_t expected_version) = 0;

  virtual Result<App> getApp(const std::string& project, const std::string& name) = 0;
  virtual Result<Page<App>> listApps(const std::string& project, const std::string& after, int limit) = 0;
  // Every app of every project, oldest first (ties by project, then name).
  virtual Result<std::vector<App>> listAppsByAge() = 0;
  virtual Status insertApp(const App& app) = 0;
  virtual Status updateApp(const App& app, int64_t expected_version) = 0;
  // Removes the app, its releases, its instances, its host port claims and its domains.
  virtual Status deleteApp(const std::string& project, const std::string& name) = 0;
  // The app's instances as their agents last reported them, by VM name.
  virtual Result<std::vector<AppInstance>> listAppInstances(const std::string& project, const std::string& app) = 0;
  virtual Status upsertAppInstance(const AppInstance& instance) = 0;
  virtual Status deleteAppInstance(const std::string& project, const std::string& app, const std::string& vm) = 0;

  // Host ports, each claimed by at most one app in the whole cluster (see HostPortClaim).
  // The claim on `port`, or NotFound when it is free.
  virtual Result<HostPortClaim> getHostPortClaim(int64_t port) = 0;
  // The ports the app holds, ascending.
  virtual Result<std::vector<HostPortClaim>> listHostPortClaims(const std::string& project, const std::string& app) = 0;
  // AlreadyExists when the port is held (by any app, this one included).
  virtual Status insertHostPortClaim(const HostPortClaim& claim) = 0;
  virtual Status deleteHostPortClaim(int64_t port) = 0;

  // Domains, each routed to at most one app in the whole cluster (see Domain).
  // The domain `name`, of whichever project holds it; NotFound when nobody does.
  virtual Result<Domain> getDomain(const std::string& name) = 0;
  // The project's domains, by name.
  virtual Result<std::vector<Domain>> listDomains(const std::string& project) = 0;
  // AlreadyExists when the name is held (by any app, this one included).
  virtual Status insertDomain(const Domain& domain) = 0;
  // NotFound when nobody holds the name.
  virtual Status deleteDomain(const std::string& name) = 0;

  virtual Status insertRelease(const Release& r) = 0;
  // Records what became of a release (running, or failed and why).
  virtual Status setReleaseOutcome(const std::string& project, const std::string& app, int64_t number,
                                   const std::string& state, const std::string& detail) = 0;
  virtual Result<Release> getRelease(const std::string& project, const std::string& app, int64_t number) = 0;
  // Newest first; `before` = 0 starts at the newest.
  virtual Result<Page<Release>> listReleases(const std::string& project, const std::string& app,
                                             int64_t before, int limit) = 0;

  virtual Status insertToken(const Token& t) = 0;
  virtual Result<Token> getToken(const std::string& id) = 0;
  virtual Result<Token> getTokenByHash(const std::string& hash) = 0;
  // All tokens, or only those of `project` when given.
  virtual Result<Page<Token>> listTokens(const std::optional<std::string>& project,
                                         const std::string& after, int limit) = 0;
  virtual Status deleteToken(const std::string& id) = 0;
  virtual Result<int64_t> countTokens() = 0;

  virtual Status insertImage(const Image& image) = 0;
  virtual Result<Image> getImage(const std::string& project, const std::string& digest) = 0;
  virtual Result<std::vector<Image>> listImages(const std::string& project) = 0;

  virtual Status insertSecret(const Secret& s) = 0;
  // The given version, or the newest when `version` is 0.
  virtual Result<Secret> getSecret(const std::string& project, const std::string& name, int64_t version) = 0;
  // The newest version of each of the project's secrets, by name.
  virtual Result<std::vector<Secret>> listSecrets(const std::string& project) = 0;
  // Removes every version.
  virtual Status deleteSecret(const std::string& project, const std::string& name) = 0;

  // Assigns and returns the event's seq.
  virtual Result<int64_t> appendEvent(const Event& e) = 0;
  // Events with seq > after, oldest first; only `project`'s when given.
  virtual Result<std::vector<Event>> listEvents(int64_t after, const std::optional<std::string>& project,
                                                int limit) = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Runs `fn` on a consistent snapshot.
  virtual Status read(const std::function<Status(Tx&)>& fn) = 0;
  // Runs `fn` in a write transaction; returns once it is durable or failed.
  virtual Status write(const std::function<Status(Tx&)>& fn) = 0;

  // The seq of the newest committed event (0 if none).
  virtual int64_t lastEventSeq() const = 0;
  // Blocks until an event newer than `after` is committed, the timeout passes, or
  // wakeAll() is called. Returns lastEventSeq().
  virtual int64_t waitForEvents(int64_t after, std::chrono::milliseconds timeout) = 0;
  // Releases every waitForEvents() caller (used at shutdown).
  virtual void wakeAll() = 0;
  // Grows with every committed write, before that write() returns: a read that starts after
  // the value was G and sees G again afterwards saw no change (what response caches key on).
  virtual int64_t dataGeneration() const = 0;
};

}  // namespace berth::store
