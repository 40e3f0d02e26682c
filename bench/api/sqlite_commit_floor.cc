// The floor of durable writes on this disk: single-row SQLite commits with berthd's settings
// (WAL, synchronous=FULL) from a tight loop. bench/api/run compares API creates/s against it.
//
// usage: berth_bench_sqlite_commit DB_PATH SECONDS   → prints "commits_per_second N"
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {
void check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    std::fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
    std::exit(1);
  }
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s DB_PATH SECONDS\n", argv[0]);
    return 2;
  }
  sqlite3* db = nullptr;
  check(sqlite3_open(argv[1], &db), db, "open");
  check(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                         "CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v TEXT NOT NULL);",
                     nullptr, nullptr, nullptr),
        db, "setup");
  sqlite3_stmt *begin, *insert, *commit;
  check(sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, nullptr), db, "prepare");
  check(sqlite3_prepare_v2(db, "INSERT INTO t (v) VALUES (?)", -1, &insert, nullptr), db, "prepare");
  check(sqlite3_prepare_v2(db, "COMMIT", -1, &commit, nullptr), db, "prepare");
  // A row about the size of a project with its event.
  std::string value(300, 'x');
  auto seconds = std::chrono::duration<double>(std::atof(argv[2]));
  auto start = std::chrono::steady_clock::now();
  long commits = 0;
  while (std::chrono::steady_clock::now() - start < seconds) {
    check(sqlite3_step(begin), db, "begin");
    sqlite3_reset(begin);
    sqlite3_bind_text(insert, 1, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
    check(sqlite3_step(insert), db, "insert");
    sqlite3_reset(insert);
    check(sqlite3_step(commit), db, "commit");
    sqlite3_reset(commit);
    ++commits;
  }
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("commits_per_second %.0f\n", commits / elapsed);
  sqlite3_finalize(begin);
  sqlite3_finalize(insert);
  sqlite3_finalize(commit);
  sqlite3_close(db);
  return 0;
}
