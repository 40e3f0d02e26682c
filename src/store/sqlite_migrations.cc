#include "store/sqlite_migrations.h"

#include <string>
#include <vector>

namespace berth::store {

namespace {

// Append only: a released migration never changes, or existing databases would diverge.
const std::vector<std::string>& migrations() {
  static const std::vector<std::string> kMigrations = {
      // 1: projects, VMs, apps with releases, tokens, events.
      R"sql(
CREATE TABLE projects (
  name TEXT PRIMARY KEY,
  quota_vcpus INTEGER NOT NULL, quota_memory_mib INTEGER NOT NULL,
  quota_disk_gib INTEGER NOT NULL, quota_vms INTEGER NOT NULL,
  version INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE vms (
  project TEXT NOT NULL REFERENCES projects(name), name TEXT NOT NULL,
  vcpus INTEGER NOT NULL, memory_mib INTEGER NOT NULL, disk_gib INTEGER NOT NULL,
  runtime TEXT NOT NULL, machine TEXT NOT NULL, node TEXT,
  power TEXT NOT NULL, state TEXT NOT NULL,
  version INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  PRIMARY KEY (project, name)
) WITHOUT ROWID;
CREATE TABLE apps (
  project TEXT NOT NULL REFERENCES projects(name), name TEXT NOT NULL,
  spec TEXT NOT NULL, release INTEGER NOT NULL,
  version INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  PRIMARY KEY (project, name)
) WITHOUT ROWID;
CREATE TABLE releases (
  project TEXT NOT NULL, app TEXT NOT NULL, number INTEGER NOT NULL,
  spec TEXT NOT NULL, created_at INTEGER NOT NULL, created_by TEXT NOT NULL,
  PRIMARY KEY (project, app, number),
  FOREIGN KEY (project, app) REFERENCES apps(project, name)
) WITHOUT ROWID;
CREATE TABLE tokens (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL, project TEXT REFERENCES projects(name),
  created_at INTEGER NOT NULL, created_by TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, actor TEXT NOT NULL,
  action TEXT NOT NULL, project TEXT, object TEXT NOT NULL, details TEXT NOT NULL
);
CREATE INDEX events_by_project ON events (project, seq);
)sql",
      // 2: nodes, VM placement bookkeeping.
      R"sql(
CREATE TABLE nodes (
  name TEXT PRIMARY KEY, address TEXT NOT NULL,
  vcpus INTEGER NOT NULL, memory_mib INTEGER NOT NULL, disk_gib INTEGER NOT NULL,
  state TEXT NOT NULL, heartbeat_at INTEGER NOT NULL,
  version INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
) WITHOUT ROWID;
ALTER TABLE vms ADD COLUMN restart_generation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE vms ADD COLUMN state_detail TEXT NOT NULL DEFAULT '';
CREATE INDEX vms_by_node ON vms (node);
)sql",
      // 3: what the agents report about apps (the release running, its state).
      R"sql(
ALTER TABLE apps ADD COLUMN observed_release INTEGER NOT NULL DEFAULT 0;
ALTER TABLE apps ADD COLUMN state TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE apps ADD COLUMN state_detail TEXT NOT NULL DEFAULT '';
)sql",
      // 4: sealed secrets, every version kept for the releases that use it.
      R"sql(
CREATE TABLE secrets (
  project TEXT NOT NULL REFERENCES projects(name), name TEXT NOT NULL, version INTEGER NOT NULL,
  sealed TEXT NOT NULL, created_at INTEGER NOT NULL, created_by TEXT NOT NULL,
  PRIMARY KEY (project, name, version)
) WITHOUT ROWID;
)sql",
      // 5: imported OCI images.
      R"sql(
CREATE TABLE images (
  project TEXT NOT NULL REFERENCES projects(name), digest TEXT NOT NULL, config TEXT NOT NULL,
  rootfs_digest TEXT NOT NULL, rootfs_size INTEGER NOT NULL, source TEXT NOT NULL,
  created_at INTEGER NOT NULL, created_by TEXT NOT NULL,
  PRIMARY KEY (project, digest)
) WITHOUT ROWID;
)sql",
      // 6: what became of each release (health-gated rollouts), and which are rollbacks.
      R"sql(
ALTER TABLE releases ADD COLUMN rollback_of INTEGER NOT NULL DEFAULT 0;
ALTER TABLE releases ADD COLUMN automatic INTEGER NOT NULL DEFAULT 0;
ALTER TABLE releases ADD COLUMN state TEXT NOT NULL DEFAULT '';
ALTER TABLE releases ADD COLUMN detail TEXT NOT NULL DEFAULT '';
)sql",
      // 7: an app's instances, one per VM it runs in (replicas), as their agents report them.
      R"sql(
CREATE TABLE app_instances (
  project TEXT NOT NULL, app TEXT NOT NULL, vm TEXT NOT NULL, release INTEGER NOT NULL,
  state TEXT NOT NULL, detail TEXT NOT NULL, updated_at INTEGER NOT NULL,
  PRIMARY KEY (project, app, vm)
) WITHOUT ROWID;
)sql",
      // 8: project networks: a subnet per project and an address per VM, never shared.
      R"sql(
ALTER TABLE projects ADD COLUMN subnet TEXT NOT NULL DEFAULT '';
ALTER TABLE projects ADD COLUMN egress TEXT NOT NULL DEFAULT 'allow';
ALTER TABLE vms ADD COLUMN address TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX projects_by_subnet ON projects (subnet) WHERE subnet != '';
CREATE UNIQUE INDEX vms_by_address ON vms (project, address) WHERE address != '';
)sql",
      // 9: published host ports, each held by one app of one project across the whole cluster (an
      // app may land on any node). Filled from the apps' specs at startup, oldest app first.
      R"sql(
CREATE TABLE host_ports (
  port INTEGER PRIMARY KEY, project TEXT NOT NULL, app TEXT NOT NULL, claimed_at INTEGER NOT NULL
);
CREATE INDEX host_ports_by_app ON host_ports (project, app);
)sql",
      // 10: domains, each routed to one app of one project across the whole cluster; and the
      // HTTPS ingress each node registers (its ports, and its CA when it issues its own).
      R"sql(
CREATE TABLE domains (
  name TEXT PRIMARY KEY, project TEXT NOT NULL, app TEXT NOT NULL,
  created_at INTEGER NOT NULL, created_by TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX domains_by_app ON domains (project, app);
ALTER TABLE nodes ADD COLUMN ingress_http_port INTEGER NOT NULL DEFAULT 0;
ALTER TABLE nodes ADD COLUMN ingress_https_port INTEGER NOT NULL DEFAULT 0;
ALTER TABLE nodes ADD COLUMN ingress_ca TEXT NOT NULL DEFAULT '';
)sql",
  };
  return kMigrations;
}

Result<int> userVersion(SqliteDb& db) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db.prepare("PRAGMA user_version"));
  BERTH_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return internalError("PRAGMA user_version returned no row");
  return static_cast<int>(st.int64At(0));
}

}  // namespace

int latestSchemaVersion() { return static_cast<int>(migrations().size()); }

Status migrate(SqliteDb& db) {
  BERTH_ASSIGN_OR_RETURN(int current, userVersion(db));
  if (current > latestSchemaVersion()) {
    return failedPrecondition("the database has schema version " + std::to_string(current) +
                              " but this berthd knows only up to " + std::to_string(latestSchemaVersion()) +
                              "; run a newer berthd");
  }
  for (int v = current; v < latestSchemaVersion(); ++v) {
    BERTH_RETURN_IF_ERROR(db.exec("BEGIN IMMEDIATE"));
    Status s = db.exec(migrations()[static_cast<size_t>(v)]);
    if (s.isOk()) s = db.exec("PRAGMA user_version = " + std::to_string(v + 1));
    if (s.isOk()) s = db.exec("COMMIT");
    if (!s.isOk()) {
      (void)db.exec("ROLLBACK");
      return s.withContext("schema migration " + std::to_string(v + 1) + " failed");
    }
  }
  return Status::ok();
}

}  // namespace berth::store
