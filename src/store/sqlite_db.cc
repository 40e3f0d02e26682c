#include "store/sqlite_db.h"

#include <mutex>

namespace berth::store {

namespace {
// By default SQLite keeps memory statistics under one process-wide mutex that every malloc and
// free takes; with readers on several threads that mutex was most of the futex waits on the GET
// path (perf). Berth never reads the statistics. Legal only before SQLite initialises, so it is
// done before the first open; if the process initialised SQLite already, the call fails harmlessly.
void configureSqliteOnce() {
  static std::once_flag once;
  std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}
}  // namespace

Statement::~Statement() {
  if (stmt_) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

Statement& Statement::bind(int index, int64_t v) {
  sqlite3_bind_int64(stmt_, index, v);
  return *this;
}

Statement& Statement::bind(int index, const std::string& v) {
  sqlite3_bind_text(stmt_, index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind(int index, const std::optional<std::string>& v) {
  if (v) return bind(index, *v);
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Result<bool> Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  if (rc == SQLITE_CONSTRAINT) {
    if (db_->extendedErrorCode() == SQLITE_CONSTRAINT_FOREIGNKEY) {
      return failedPrecondition("a referenced object is missing or still in use: " + db_->lastError());
    }
    return alreadyExists("constraint violated: " + db_->lastError());
  }
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return unavailable("database busy: " + db_->lastError());
  if (rc == SQLITE_FULL) return unavailable("disk full: " + db_->lastError());
  return internalError("database error: " + db_->lastError());
}

Status Statement::run() {
  auto r = step();
  if (!r.isOk()) return r.status();
  return Status::ok();
}

int64_t Statement::int64At(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string Statement::textAt(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}

std::optional<std::string> Statement::optionalTextAt(int col) const {
  if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
  return textAt(col);
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::open(const std::string& path, bool read_only) {
  configureSqliteOnce();
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_NOMUTEX | (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  std::unique_ptr<SqliteDb> db(new SqliteDb(raw));
  if (rc != SQLITE_OK) {
    return internalError("cannot open database '" + path + "': " +
                         (raw ? db->lastError() : std::string(sqlite3_errstr(rc))));
  }
  sqlite3_busy_timeout(raw, 5000);
  // synchronous=FULL makes every commit fsync the WAL: an acknowledged write survives power loss.
  std::string pragmas = "PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL;";
  if (!read_only) pragmas = "PRAGMA journal_mode=WAL; " + pragmas;
  BERTH_RETURN_IF_ERROR(db->exec(pragmas).withContext("cannot configure database '" + path + "'"));
  return db;
}

SqliteDb::~SqliteDb() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Result<Statement> SqliteDb::prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
      return internalError("cannot prepare '" + sql + "': " + lastError());
    }
    it = cache_.emplace(sql, stmt).first;
  }
  return Statement(this, it->second);
}

Status SqliteDb::run(const std::string& sql) {
  BERTH_ASSIGN_OR_RETURN(Statement st, prepare(sql));
  return st.run();
}

Status SqliteDb::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : lastError();
    sqlite3_free(err);
    return internalError(msg);
  }
  return Status::ok();
}

}  // namespace berth::store
