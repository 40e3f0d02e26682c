#pragma once
// Versioned schema migrations for the SQLite backend, tracked in PRAGMA user_version. Each
// migration runs in its own transaction at start, so a crash mid-upgrade leaves the previous
// version intact and the next start retries.

#include "common/status.h"
#include "store/sqlite_db.h"

namespace berth::store {

// The schema version this build writes.
int latestSchemaVersion();

// Brings `db` to latestSchemaVersion(). Refuses a database from a newer Berth.
Status migrate(SqliteDb& db);

}  // namespace berth::store
