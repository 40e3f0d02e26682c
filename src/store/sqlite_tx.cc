#include "store/sqlite_tx.h"

namespace berth::store {

namespace {

constexpr char kProjectCols[] =
    "name, quota_vcpus, quota_memory_mib, quota_disk_gib, quota_vms, version, created_at, updated_at, subnet, egress";
constexpr char kVmCols[] =
    "project, name, vcpus, memory_mib, disk_gib, runtime, machine, node, power, state, version, "
    "created_at, updated_at, restart_generation, state_detail, address";
constexpr char kNodeCols[] =
    "name, address, vcpus, memory_mib, disk_gib, state, heartbeat_at, version, created_at, "
    "updated_at, ingress_http_port, ingress_https_port, ingress_ca";
constexpr char kAppCols[] =
    "project, name, spec, release, version, created_at, updated_at, observed_release, state, state_detail";
constexpr char kReleaseCols[] =
    "project, app, number, spec, created_at, created_by, rollback_of, automatic, state, detail";
constexpr char kTokenCols[] = "id, name, hash, role, project, created_at, created_by";
constexpr char kEventCols[] = "seq, time, actor, action, project, object, details";

Project readProject(const Statement& st) {
  Project p;
  p.name = st.textAt(0);
  p.quotas = {st.int64At(1), st.int64At(2), st.int64At(3), st.int64At(4)};
  p.version = st.int64At(5);
  p.created_at = st.int64At(6);
  p.updated_at = st.int64At(7);
  p.subnet = st.textAt(8);
  p.egress = st.textAt(9);
  return p;
}

Vm readVm(const Statement& st) {
  Vm vm;
  vm.project = st.textAt(0);
  vm.name = st.textAt(1);
  vm.vcpus = st.int64At(2);
  vm.memory_mib = st.int64At(3);
  vm.disk_gib = st.int64At(4);
  vm.runtime = st.textAt(5);
  vm.machine = st.textAt(6);
  vm.node = st.optionalTextAt(7);
  vm.power = st.textAt(8);
  vm.state = st.textAt(9);
  vm.version = st.int64At(10);
  vm.created_at = st.int64At(11);
  vm.updated_at = st.int64At(12);
  vm.restart_generation = st.int64At(13);
  vm.state_detail = st.textAt(14);
  vm.address = st.textAt(15);
  return vm;
}

Node readNode(const Statement& st) {
  Node n;
  n.name = st.textAt(0);
  n.address = st.textAt(1);
  n.vcpus = st.int64At(2);
  n.memory_mib = st.int64At(3);
  n.disk_gib = st.int64At(4);
  n.state = st.textAt(5);
  n.heartbeat_at = st.int64At(6);
  n.version = st.int64At(7);
  n.created_at = st.int64At(8);
  n.updated_at = st.int64At(9);
  n.ingress_http_port = st.int64At(10);
  n.ingress_https_port = st.int64At(11);
  n.ingress_ca = st.textAt(12);
  return n;
}

App readApp(const Statement& st) {
  return App{st.textAt(0), st.textAt(1), st.textAt(2), st.int64At(3), st.int64At(4), st.int64At(5), st.int64At(6),
             st.int64At(7), st.textAt(8), st.textAt(9), {}, {}, {}};
}

HostPortClaim readHostPortClaim(const Statement& st) {
  return HostPortClaim{st.int64At(0), st.textAt(1), st.textAt(2), st.int64At(3)};
}

Release readRelease(const Statement& st) {
  return Release{st.textAt(0),   st.textAt(1),       st.int64At(2), st.textAt(3), st.int64At(4),
                 st.textAt(5),   st.int64At(6),      st.int64At(7) != 0, st.textAt(8), st.textAt(9)};
}

Token readToken(const Statement& st) {
  return Token{st.textAt(0), st.textAt(1), st.textAt(2), st.textAt(3),
               st.optionalTextAt(4), st.int64At(5), st.textAt(6)};
}

Event readEvent(const Statement& st) {
  return Event{st.int64At(0), st.int64At(1), st.textAt(2), st.textAt(3),
               st.optionalTextAt(4), st.textAt(5), st.textAt(6)};
}

// Collects up to `limit` rows; when one more exists, `next` is the cursor of the last kept row.
template <typename T, typename ReadFn, typename CursorFn>
Result<Page<T>> collectPage(Statement& st, int limit, ReadFn read, CursorFn cursor) {
  Page<T> page;
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    if (static_cast<int>(page.items.size()) == limit) {
      page.next = cursor(page.items.back());
      break;
    }
    page.items.push_back(read(st));
  }
  return page;
}

template <typename T, typename ReadFn>
Result<std::vector<T>> collectAll(Statement& st, ReadFn read) {
  std::vector<T> out;
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.push_back(read(st));
  }
  return out;
}

template <typename T, typename ReadFn>
Result<T> getOne(Statement& st, ReadFn read, const std::string& missing) {
  BERTH_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return notFound(missing);
  return read(st);
}

Status insertOrExplain(Statement& st, const std::string& what) {
  Status s = st.run();
  if (s.code() == StatusCode::kAlreadyExists) return alreadyExists(what + " already exists");
  return s;
}

}  // namespace

Status SqliteTx::checkedChange(Statement& st, const std::string& what, bool exists, int64_t stored_version,
                               int64_t expected_version) {
  if (!exists) return notFound(what + " does not exist");
  if (stored_version != expected_version) {
    return versionMismatch(what + " is at version " + std::to_string(stored_version) + ", not " +
                           std::to_string(expected_version) + "; fetch it again and retry");
  }
  return st.run();
}

// --- projects ---

Result<Project> SqliteTx::getProject(const std::string& name) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string("SELECT ") + kProjectCols +
                                                   " FROM projects WHERE name = ?"));
  st.bind(1, name);
  return getOne<Project>(st, readProject, "project '" + name + "' does not exist");
}

Result<Page<Project>> SqliteTx::listProjects(const std::string& after, int limit) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string("SELECT ") + kProjectCols +
                                                   " FROM projects WHERE name > ? ORDER BY name LIMIT ?"));
  st.bind(1, after).bind(2, int64_t{limit} + 1);
  return collectPage<Project>(st, limit, readProject, [](const Project& p) { return p.name; });
}

Status SqliteTx::insertProject(const Project& p) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string("INSERT INTO projects (") + kProjectCols +
                                                   ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  st.bind(1, p.name).bind(2, p.quotas.vcpus).bind(3, p.quotas.memory_mib).bind(4, p.quotas.disk_gib);
  st.bind(5, p.quotas.vms).bind(6, p.version).bind(7, p.created_at).bind(8, p.updated_at);
  st.bind(9, p.subnet).bind(10, p.egress);
  return insertOrExplain(st, "project '" + p.name + "'");
}

Status SqliteTx::updateProject(const Project& p, int64_t expected_version) {
  auto current = getProject(p.name);
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(
      "UPDATE projects SET quota_vcpus = ?, quota_memory_mib = ?, quota_disk_gib = ?, quota_vms = ?, "
      "version = version + 1, updated_at = ?, subnet = ?, egress = ? WHERE name = ?"));
  st.bind(1, p.quotas.vcpus).bind(2, p.quotas.memory_mib).bind(3, p.quotas.disk_gib).bind(4, p.quotas.vms);
  st.bind(5, p.updated_at).bind(6, p.subnet).bind(7, p.egress).bind(8, p.name);
  return checkedChange(st, "project '" + p.name + "'", current.isOk(), current ? current->version : 0,
                       expected_version);
}

Status SqliteTx::deleteProject(const std::string& name) {
  for (const char* sql : {"DELETE FROM tokens WHERE project = ?", "DELETE FROM secrets WHERE project = ?",
                          "DELETE FROM images WHERE project = ?",
                          "DELETE FROM projects WHERE name = ?"}) {
    BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(sql));
    st.bind(1, name);
    BERTH_RETURN_IF_ERROR(st.run());
  }
  if (db_.changes() == 0) return notFound("project '" + name + "' does not exist");
  return Status::ok();
}

Result<std::vector<std::string>> SqliteTx::listProjectSubnets() {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare("SELECT subnet FROM projects WHERE subnet != '' ORDER BY subnet"));
  return collectAll<std::string>(st, [](const Statement& row) { return row.textAt(0); });
}

Result<Usage> SqliteTx::projectUsage(const std::string& project) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(
      "SELECT COALESCE(SUM(vcpus), 0), COALESCE(SUM(memory_mib), 0), COALESCE(SUM(disk_gib), 0), COUNT(*) "
      "FROM vms WHERE project = ?"));
  st.bind(1, project);
  BERTH_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return internalError("usage query returned no row");
  return Usage{st.int64At(0), st.int64At(1), st.int64At(2), st.int64At(3)};
}

Result<std::map<std::string, Usage>> SqliteTx::projectUsages(const std::string& first, const std::string& last) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(
      "SELECT project, SUM(vcpus), SUM(memory_mib), SUM(disk_gib), COUNT(*) FROM vms "
      "WHERE project >= ? AND project <= ? GROUP BY project"));
  st.bind(1, first).bind(2, last);
  std::map<std::string, Usage> out;
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out[st.textAt(0)] = Usage{st.int64At(1), st.int64At(2), st.int64At(3), st.int64At(4)};
  }
  return out;
}

Result<int64_t> SqliteTx::countApps(const std::string& project) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare("SELECT COUNT(*) FROM apps WHERE project = ?"));
  st.bind(1, project);
  BERTH_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return internalError("count query returned no row");
  return st.int64At(0);
}

// --- VMs ---

Result<Vm> SqliteTx::getVm(const std::string& project, const std::string& name) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string("SELECT ") + kVmCols +
                                                   " FROM vms WHERE project = ? AND name = ?"));
  st.bind(1, project).bind(2, name);
  return getOne<Vm>(st, readVm, "VM '" + name + "' does not exist in project '" + project + "'");
}

Result<Page<Vm>> SqliteTx::listVms(const std::string& project, const std::string& after, int limit) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string("SELECT ") + kVmCols +
      " FROM vms WHERE project = ? AND name > ? ORDER BY name LIMIT ?"));
  st.bind(1, project).bind(2, after).bind(3, int64_t{limit} + 1);
  return collectPage<Vm>(st, limit, readVm, [](const Vm& v) { return v.name; });
}

Status SqliteTx::insertVm(const Vm& vm) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string("INSERT INTO vms (") + kVmCols +
                                                   ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  st.bind(1, vm.project).bind(2, vm.name).bind(3, vm.vcpus).bind(4, vm.memory_mib).bind(5, vm.disk_gib);
  st.bind(6, vm.runtime).bind(7, vm.machine).bind(8, vm.node).bind(9, vm.power).bind(10, vm.state);
  st.bind(11, vm.version).bind(12, vm.created_at).bind(13, vm.updated_at).bind(14, vm.restart_generation);
  st.bind(15, vm.state_detail).bind(16, vm.address);
  return insertOrExplain(st, "VM '" + vm.name + "' in project '" + vm.project + "'");
}

Status SqliteTx::updateVm(const Vm& vm, int64_t expected_version) {
  auto current = getVm(vm.project, vm.name);
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(
      "UPDATE vms SET vcpus = ?, memory_mib = ?, disk_gib = ?, runtime = ?, machine = ?, node = ?, "
      "power = ?, state = ?, version = version + 1, updated_at = ?, restart_generation = ?, state_detail = ?, "
      "address = ? WHERE project = ? AND name = ?"));
  st.bind(1, vm.vcpus).bind(2, vm.memory_mib).bind(3, vm.disk_gib).bind(4, vm.runtime).bind(5, vm.machine);
  st.bind(6, vm.node).bind(7, vm.power).bind(8, vm.state).bind(9, vm.updated_at);
  st.bind(10, vm.restart_generation).bind(11, vm.state_detail).bind(12, vm.address).bind(13, vm.project);
  st.bind(14, vm.name);
  return checkedChange(st, "VM '" + vm.name + "'", current.isOk(), current ? current->version : 0,
                       expected_version);
}

Status SqliteTx::deleteVm(const std::string& project, const std::string& name) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare("DELETE FROM vms WHERE project = ? AND name = ?"));
  st.bind(1, project).bind(2, name);
  BERTH_RETURN_IF_ERROR(st.run());
  if (db_.changes() == 0) return notFound("VM '" + name + "' does not exist in project '" + project + "'");
  return Status::ok();
}

Status SqliteTx::setVmObserved(const std::string& project, const std::string& name, const std::string& state,
                               const std::string& detail) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(
      "UPDATE vms SET state = ?, state_detail = ? WHERE project = ? AND name = ?"));
  st.bind(1, state).bind(2, detail).bind(3, project).bind(4, name);
  BERTH_RETURN_IF_ERROR(st.run());
  if (db_.changes() == 0) return notFound("VM '" + name + "' does not exist in project '" + project + "'");
  return Status::ok();
}

Result<std::vector<Vm>> SqliteTx::listVmsByAge(const std::string& project) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string("SELECT ") + kVmCols +
      " FROM vms WHERE project = ? ORDER BY created_at, name"));
  st.bind(1, project);
  return collectAll<Vm>(st, readVm);
}

Result<std::vector<Vm>> SqliteTx::listVmsOnNode(const std::string& node) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string("SELECT ") + kVmCols +
      " FROM vms WHERE (?1 = '' AND node IS NULL) OR node = ?1 ORDER BY project, name"));
  st.bind(1, node);
  return collectAll<Vm>(st, readVm);
}

// --- nodes ---

Result<Node> SqliteTx::getNode(const std::string& name) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string("SELECT ") + kNodeCols + " FROM nodes WHERE name = ?"));
  st.bind(1, name);
  return getOne<Node>(st, readNode, "node '" + name + "' does not exist");
}

Result<std::vector<Node>> SqliteTx::listNodes() {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string("SELECT ") + kNodeCols + " FROM nodes ORDER BY name"));
  return collectAll<Node>(st, readNode);
}

Status SqliteTx::upsertNode(const Node& n) {
  BERTH_ASSIGN_OR_RETURN(
      Statement st,
      db_.prepare(std::string("INSERT INTO nodes (") + kNodeCols +
                  ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                  "address = excluded.address, vcpus = excluded.vcpus, "
                  "memory_mib = excluded.memory_mib, disk_gib = excluded.disk_gib, "
                  "heartbeat_at = excluded.heartbeat_at, updated_at = excluded.updated_at, "
                  "ingress_http_port = excluded.ingress_http_port, "
                  "ingress_https_port = excluded.ingress_https_port, ingress_ca = excluded.ingress_ca"));
  st.bind(1, n.name).bind(2, n.address).bind(3, n.vcpus).bind(4, n.memory_mib).bind(5, n.disk_gib);
  st.bind(6, n.state).bind(7, n.heartbeat_at).bind(8, n.version).bind(9, n.created_at).bind(10, n.updated_at);
  st.bind(11, n.ingress_http_port).bind(12, n.ingress_https_port).bind(13, n.ingress_ca);
  return st.run();
}

Status SqliteTx::updateNode(const Node& n, int64_t expected_version) {
  auto current = getNode(n.name);
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(
      "UPDATE nodes SET address = ?, vcpus = ?, memory_mib = ?, disk_gib = ?, state = ?, heartbeat_at = ?, "
      "version = version + 1, updated_at = ? WHERE name = ?"));
  st.bind(1, n.address).bind(2, n.vcpus).bind(3, n.memory_mib).bind(4, n.disk_gib).bind(5, n.state);
  st.bind(6, n.heartbeat_at).bind(7, n.updated_at).bind(8, n.name);
  return checkedChange(st, "node '" + n.name + "'", current.isOk(), current ? current->version : 0, expected_version);
}

// --- apps and releases ---

Result<App> SqliteTx::getApp(const std::string& project, const std::string& name) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string("SELECT ") + kAppCols +
                                                   " FROM apps WHERE project = ? AND name = ?"));
  st.bind(1, project).bind(2, name);
  return getOne<App>(st, readApp, "app '" + name + "' does not exist in project '" + project + "'");
}

Result<Page<App>> SqliteTx::listApps(const std::string& project, const std::string& after, int limit) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string("SELECT ") + kAppCols +
      " FROM apps WHERE project = ? AND name > ? ORDER BY name LIMIT ?"));
  st.bind(1, project).bind(2, after).bind(3, int64_t{limit} + 1);
  return collectPage<App>(st, limit, readApp, [](const App& a) { return a.name; });
}

Result<std::vector<App>> SqliteTx::listAppsByAge() {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string("SELECT ") + kAppCols +
                                                   " FROM apps ORDER BY created_at, project, name"));
  return collectAll<App>(st, readApp);
}

Status SqliteTx::insertApp(const App& app) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string("INSERT INTO apps (") + kAppCols +
                                                   ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  st.bind(1, app.project).bind(2, app.name).bind(3, app.spec_json).bind(4, app.release);
  st.bind(5, app.version).bind(6, app.created_at).bind(7, app.updated_at);
  st.bind(8, app.observed_release).bind(9, app.state).bind(10, app.state_detail);
  return insertOrExplain(st, "app '" + app.name + "' in project '" + app.project + "'");
}

Status SqliteTx::updateApp(const App& app, int64_t expected_version) {
  auto current = getApp(app.project, app.name);
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(
      "UPDATE apps SET spec = ?, release = ?, version = version + 1, updated_at = ? "
      "WHERE project = ? AND name = ?"));
  st.bind(1, app.spec_json).bind(2, app.release).bind(3, app.updated_at).bind(4, app.project).bind(5, app.name);
  return checkedChange(st, "app '" + app.name + "'", current.isOk(), current ? current->version : 0,
                       expected_version);
}

Status SqliteTx::setAppObserved(const std::string& project, const std::string& name, int64_t release,
                                const std::string& state, const std::string& detail) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(
      "UPDATE apps SET observed_release = ?, state = ?, state_detail = ? WHERE project = ? AND name = ?"));
  st.bind(1, release).bind(2, state).bind(3, detail).bind(4, project).bind(5, name);
  BERTH_RETURN_IF_ERROR(st.run());
  if (db_.changes() == 0) return notFound("app '" + name + "' does not exist in project '" + project + "'");
  return Status::ok();
}

Result<std::vector<AppInstance>> SqliteTx::listAppInstances(const std::string& project, const std::string& app) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(
      "SELECT project, app, vm, release, state, detail, updated_at FROM app_instances "
      "WHERE project = ? AND app = ? ORDER BY vm"));
  st.bind(1, project).bind(2, app);
  return collectAll<AppInstance>(st, [](const Statement& row) {
    return AppInstance{row.textAt(0), row.textAt(1), row.textAt(2), row.int64At(3),
                       row.textAt(4), row.textAt(5), row.int64At(6)};
  });
}

Status SqliteTx::upsertAppInstance(const AppInstance& i) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(
      "INSERT INTO app_instances (project, app, vm, release, state, detail, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (project, app, vm) DO UPDATE SET release = excluded.release, state = excluded.state, "
      "detail = excluded.detail, updated_at = excluded.updated_at"));
  st.bind(1, i.project).bind(2, i.app).bind(3, i.vm).bind(4, i.release).bind(5, i.state).bind(6, i.detail);
  st.bind(7, i.updated_at);
  return st.run();
}

Status SqliteTx::deleteAppInstance(const std::string& project, const std::string& app, const std::string& vm) {
  BERTH_ASSIGN_OR_RETURN(Statement st,
                         db_.prepare("DELETE FROM app_instances WHERE project = ? AND app = ? AND vm = ?"));
  st.bind(1, project).bind(2, app).bind(3, vm);
  return st.run();
}

Status SqliteTx::deleteApp(const std::string& project, const std::string& name) {
  for (const char* sql : {"DELETE FROM app_instances WHERE project = ? AND app = ?",
                          "DELETE FROM host_ports WHERE project = ? AND app = ?",
                          "DELETE FROM domains WHERE project = ? AND app = ?",
                          "DELETE FROM releases WHERE project = ? AND app = ?",
                          "DELETE FROM apps WHERE project = ? AND name = ?"}) {
    BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(sql));
    st.bind(1, project).bind(2, name);
    BERTH_RETURN_IF_ERROR(st.run());
  }
  if (db_.changes() == 0) return notFound("app '" + name + "' does not exist in project '" + project + "'");
  return Status::ok();
}

Result<HostPortClaim> SqliteTx::getHostPortClaim(int64_t port) {
  BERTH_ASSIGN_OR_RETURN(Statement st,
                         db_.prepare("SELECT port, project, app, claimed_at FROM host_ports WHERE port = ?"));
  st.bind(1, port);
  return getOne<HostPortClaim>(st, readHostPortClaim, "host port " + std::to_string(port) + " is not claimed");
}

Result<std::vector<HostPortClaim>> SqliteTx::listHostPortClaims(const std::string& project, const std::string& app) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare("SELECT port, project, app, claimed_at FROM host_ports "
                                                   "WHERE project = ? AND app = ? ORDER BY port"));
  st.bind(1, project).bind(2, app);
  return collectAll<HostPortClaim>(st, readHostPortClaim);
}

Status SqliteTx::insertHostPortClaim(const HostPortClaim& claim) {
  BERTH_ASSIGN_OR_RETURN(Statement st,
                         db_.prepare("INSERT INTO host_ports (port, project, app, claimed_at) VALUES (?, ?, ?, ?)"));
  st.bind(1, claim.port).bind(2, claim.project).bind(3, claim.app).bind(4, claim.claimed_at);
  return insertOrExplain(st, "a claim on host port " + std::to_string(claim.port));
}

Status SqliteTx::deleteHostPortClaim(int64_t port) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare("DELETE FROM host_ports WHERE port = ?"));
  st.bind(1, port);
  return st.run();
}

// --- domains ---

namespace {
constexpr const char* kDomainCols = "name, project, app, created_at, created_by";
Domain readDomain(const Statement& st) {
  return Domain{st.textAt(0), st.textAt(1), st.textAt(2), st.int64At(3), st.textAt(4)};
}
}  // namespace

Result<Domain> SqliteTx::getDomain(const std::string& name) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string("SELECT ") + kDomainCols +
                                                   " FROM domains WHERE name = ?"));
  st.bind(1, name);
  return getOne<Domain>(st, readDomain, "domain '" + name + "' does not exist");
}

Result<std::vector<Domain>> SqliteTx::listDomains(const std::string& project) {
  BERTH_ASSIGN_OR_RETURN(Statement st,
                         db_.prepare(std::string("SELECT ") + kDomainCols +
                                     " FROM domains WHERE project = ? ORDER BY name"));
  st.bind(1, project);
  return collectAll<Domain>(st, readDomain);
}

Status SqliteTx::insertDomain(const Domain& d) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string("INSERT INTO domains (") +
                                                   kDomainCols + ") VALUES (?, ?, ?, ?, ?)"));
  st.bind(1, d.name).bind(2, d.project).bind(3, d.app).bind(4, d.created_at).bind(5, d.created_by);
  return insertOrExplain(st, "domain '" + d.name + "'");
}

Status SqliteTx::deleteDomain(const std::string& name) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare("DELETE FROM domains WHERE name = ?"));
  st.bind(1, name);
  BERTH_RETURN_IF_ERROR(st.run());
  if (db_.changes() == 0) return notFound("domain '" + name + "' does not exist");
  return Status::ok();
}

// --- releases ---

Status SqliteTx::insertRelease(const Release& r) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string("INSERT INTO releases (") + kReleaseCols +
                                                   ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  st.bind(1, r.project).bind(2, r.app).bind(3, r.number).bind(4, r.spec_json).bind(5, r.created_at);
  st.bind(6, r.created_by).bind(7, r.rollback_of).bind(8, int64_t{r.automatic ? 1 : 0}).bind(9, r.state);
  st.bind(10, r.detail);
  return insertOrExplain(st, "release " + std::to_string(r.number) + " of app '" + r.app + "'");
}

Status SqliteTx::setReleaseOutcome(const std::string& project, const std::string& app, int64_t number,
                                   const std::string& state, const std::string& detail) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(
      "UPDATE releases SET state = ?, detail = ? WHERE project = ? AND app = ? AND number = ?"));
  st.bind(1, state).bind(2, detail).bind(3, project).bind(4, app).bind(5, number);
  BERTH_RETURN_IF_ERROR(st.run());
  if (db_.changes() == 0) return notFound("app '" + app + "' has no release " + std::to_string(number));
  return Status::ok();
}

Result<Release> SqliteTx::getRelease(const std::string& project, const std::string& app, int64_t number) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string("SELECT ") + kReleaseCols +
      " FROM releases WHERE project = ? AND app = ? AND number = ?"));
  st.bind(1, project).bind(2, app).bind(3, number);
  return getOne<Release>(st, readRelease,
                         "app '" + app + "' has no release " + std::to_string(number));
}

Result<Page<Release>> SqliteTx::listReleases(const std::string& project, const std::string& app,
                                             int64_t before, int limit) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string("SELECT ") + kReleaseCols +
      " FROM releases WHERE project = ? AND app = ? AND number < ? ORDER BY number DESC LIMIT ?"));
  st.bind(1, project).bind(2, app).bind(3, before > 0 ? before : INT64_MAX).bind(4, int64_t{limit} + 1);
  return collectPage<Release>(st, limit, readRelease,
                              [](const Release& r) { return std::to_string(r.number); });
}

// --- tokens ---

Status SqliteTx::insertToken(const Token& t) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string("INSERT INTO tokens (") + kTokenCols +
                                                   ") VALUES (?, ?, ?, ?, ?, ?, ?)"));
  st.bind(1, t.id).bind(2, t.name).bind(3, t.hash).bind(4, t.role).bind(5, t.project);
  st.bind(6, t.created_at).bind(7, t.created_by);
  return insertOrExplain(st, "token '" + t.id + "'");
}

Result<Token> SqliteTx::getToken(const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string("SELECT ") + kTokenCols +
                                                   " FROM tokens WHERE id = ?"));
  st.bind(1, id);
  return getOne<Token>(st, readToken, "token '" + id + "' does not exist");
}

Result<Token> SqliteTx::getTokenByHash(const std::string& hash) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string("SELECT ") + kTokenCols +
                                                   " FROM tokens WHERE hash = ?"));
  st.bind(1, hash);
  return getOne<Token>(st, readToken, "no token has this secret");
}

Result<Page<Token>> SqliteTx::listTokens(const std::optional<std::string>& project, const std::string& after,
                                         int limit) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string("SELECT ") + kTokenCols +
      " FROM tokens WHERE (?1 IS NULL OR project = ?1) AND id > ?2 ORDER BY id LIMIT ?3"));
  st.bind(1, project).bind(2, after).bind(3, int64_t{limit} + 1);
  return collectPage<Token>(st, limit, readToken, [](const Token& t) { return t.id; });
}

Status SqliteTx::deleteToken(const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare("DELETE FROM tokens WHERE id = ?"));
  st.bind(1, id);
  BERTH_RETURN_IF_ERROR(st.run());
  if (db_.changes() == 0) return notFound("token '" + id + "' does not exist");
  return Status::ok();
}

Result<int64_t> SqliteTx::countTokens() {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare("SELECT COUNT(*) FROM tokens"));
  BERTH_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return internalError("count query returned no row");
  return st.int64At(0);
}

// --- images ---

namespace {
constexpr const char* kImageCols = "project, digest, config, rootfs_digest, rootfs_size, source, created_at, created_by";
Image readImage(const Statement& st) {
  return Image{st.textAt(0), st.textAt(1), st.textAt(2), st.textAt(3),
               st.int64At(4), st.textAt(5), st.int64At(6), st.textAt(7)};
}
}  // namespace

Status SqliteTx::insertImage(const Image& i) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string("INSERT INTO images (") + kImageCols +
                                                   ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
  st.bind(1, i.project).bind(2, i.digest).bind(3, i.config_json).bind(4, i.rootfs_digest).bind(5, i.rootfs_size);
  st.bind(6, i.source).bind(7, i.created_at).bind(8, i.created_by);
  return insertOrExplain(st, "image '" + i.digest + "'");
}

Result<Image> SqliteTx::getImage(const std::string& project, const std::string& digest) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string("SELECT ") + kImageCols +
                                                   " FROM images WHERE project = ? AND digest = ?"));
  st.bind(1, project).bind(2, digest);
  return getOne<Image>(st, readImage, "image '" + digest + "' was not imported into project '" + project + "'");
}

Result<std::vector<Image>> SqliteTx::listImages(const std::string& project) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string("SELECT ") + kImageCols +
                                                   " FROM images WHERE project = ? ORDER BY created_at, digest"));
  st.bind(1, project);
  return collectAll<Image>(st, readImage);
}

// --- secrets ---

namespace {
constexpr const char* kSecretCols = "project, name, version, sealed, created_at, created_by";
Secret readSecret(const Statement& st) {
  return Secret{st.textAt(0), st.textAt(1), st.int64At(2), st.textAt(3), st.int64At(4), st.textAt(5)};
}
}  // namespace

Status SqliteTx::insertSecret(const Secret& s) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string("INSERT INTO secrets (") + kSecretCols +
                                                   ") VALUES (?, ?, ?, ?, ?, ?)"));
  st.bind(1, s.project).bind(2, s.name).bind(3, s.version).bind(4, s.sealed).bind(5, s.created_at);
  st.bind(6, s.created_by);
  return insertOrExplain(st, "secret '" + s.name + "' version " + std::to_string(s.version));
}

Result<Secret> SqliteTx::getSecret(const std::string& project, const std::string& name, int64_t version) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string("SELECT ") + kSecretCols +
                                                   " FROM secrets WHERE project = ? AND name = ? AND (? = 0 OR "
                                                   "version = ?) ORDER BY version DESC LIMIT 1"));
  st.bind(1, project).bind(2, name).bind(3, version).bind(4, version);
  return getOne<Secret>(st, readSecret,
                        version ? "secret '" + name + "' has no version " + std::to_string(version)
                                : "secret '" + name + "' does not exist in project '" + project + "'");
}

Result<std::vector<Secret>> SqliteTx::listSecrets(const std::string& project) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string("SELECT ") + kSecretCols +
                                                   " FROM secrets s WHERE project = ? AND version = (SELECT "
                                                   "MAX(version) FROM secrets WHERE project = s.project AND "
                                                   "name = s.name) ORDER BY name"));
  st.bind(1, project);
  return collectAll<Secret>(st, readSecret);
}

Status SqliteTx::deleteSecret(const std::string& project, const std::string& name) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare("DELETE FROM secrets WHERE project = ? AND name = ?"));
  st.bind(1, project).bind(2, name);
  BERTH_RETURN_IF_ERROR(st.run());
  if (db_.changes() == 0) return notFound("secret '" + name + "' does not exist in project '" + project + "'");
  return Status::ok();
}

// --- events ---

Result<int64_t> SqliteTx::appendEvent(const Event& e) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(
      "INSERT INTO events (time, actor, action, project, object, details) VALUES (?, ?, ?, ?, ?, ?)"));
  st.bind(1, e.time).bind(2, e.actor).bind(3, e.action).bind(4, e.project).bind(5, e.object);
  st.bind(6, e.details_json);
  BERTH_RETURN_IF_ERROR(st.run());
  return db_.lastInsertRowId();
}

Result<std::vector<Event>> SqliteTx::listEvents(int64_t after, const std::optional<std::string>& project,
                                                int limit) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string("SELECT ") + kEventCols +
      " FROM events WHERE seq > ?1 AND (?2 IS NULL OR project = ?2) ORDER BY seq LIMIT ?3"));
  st.bind(1, after).bind(2, project).bind(3, int64_t{limit});
  return collectAll<Event>(st, readEvent);
}

}  // namespace berth::store
