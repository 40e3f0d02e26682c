#pragma once
// A thin RAII layer over one sqlite3 connection: prepared statements are cached per connection
// and reset on reuse. Not thread-safe: one connection is used by one thread at a time.

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"

namespace berth::store {

class SqliteDb;

// A prepared statement borrowed from the connection's cache; resets itself when destroyed.
class Statement {
 public:
  Statement(SqliteDb* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Binds parameters 1..n in order.
  Statement& bind(int index, int64_t v);
  Statement& bind(int index, const std::string& v);
  Statement& bind(int index, const std::optional<std::string>& v);

  // Advances: true when a row is available, false when done; an error otherwise.
  Result<bool> step();
  // Runs a statement that returns no rows.
  Status run();

  int64_t int64At(int col) const;
  std::string textAt(int col) const;
  std::optional<std::string> optionalTextAt(int col) const;

 private:
  SqliteDb* db_;
  sqlite3_stmt* stmt_;
};

class SqliteDb {
 public:
  // Opens (creating if `create`) the database with the durability settings Berth relies on:
  // WAL, synchronous=FULL, foreign keys on, a busy timeout.
  static Result<std::unique_ptr<SqliteDb>> open(const std::string& path, bool read_only);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  Result<Statement> prepare(const std::string& sql);
  // Runs one or more statements without results (DDL, PRAGMAs).
  Status exec(const std::string& sql);
  // Runs one statement without results through the statement cache: for the BEGIN, COMMIT and
  // SAVEPOINT of every transaction, which sqlite3_exec would parse again each time.
  Status run(const std::string& sql);
  std::string lastError() const { return sqlite3_errmsg(db_); }
  int extendedErrorCode() const { return sqlite3_extended_errcode(db_); }
  int changes() const { return sqlite3_changes(db_); }
  int64_t lastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace berth::store
