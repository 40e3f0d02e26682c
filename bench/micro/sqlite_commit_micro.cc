// Google Benchmark companion to bench/api/sqlite_commit_floor.cc: the cost of one single-row
// SQLite commit in WAL mode under each synchronous level, on the disk holding $BENCH_DB_DIR
// (default /var/tmp; never a tmpfs, where fsync is free). FULL is berthd's setting and the
// floor bench/api/run compares API creates against; NORMAL and OFF show how much of a commit
// is the fsync and how much is SQLite itself. Informational only.
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

const char* kSyncLevels[] = {"OFF", "NORMAL", "FULL"};

void check(int rc, sqlite3* db, benchmark::State& state, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    state.SkipWithError((std::string(what) + ": " + sqlite3_errmsg(db)).c_str());
  }
}

void BM_SingleRowCommit(benchmark::State& state) {
  const char* dir = std::getenv("BENCH_DB_DIR");
  std::string path = std::string(dir && *dir ? dir : "/var/tmp") + "/berth-bench-micro-" +
                     std::to_string(::getpid()) + ".db";
  sqlite3* db = nullptr;
  check(sqlite3_open(path.c_str(), &db), db, state, "open");
  std::string pragmas = std::string("PRAGMA journal_mode=WAL; PRAGMA synchronous=") +
                        kSyncLevels[state.range(0)] +
                        "; CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v TEXT NOT NULL);";
  check(sqlite3_exec(db, pragmas.c_str(), nullptr, nullptr, nullptr), db, state, "setup");
  sqlite3_stmt* insert = nullptr;
  check(sqlite3_prepare_v2(db, "INSERT INTO t (v) VALUES (?)", -1, &insert, nullptr), db, state, "prepare");
  std::string value(300, 'x');  // about a project row with its event, as in the floor program
  for (auto _ : state) {
    check(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), db, state, "begin");
    sqlite3_bind_text(insert, 1, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
    check(sqlite3_step(insert), db, state, "insert");
    sqlite3_reset(insert);
    check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, state, "commit");
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string("synchronous=") + kSyncLevels[state.range(0)]);
  sqlite3_finalize(insert);
  sqlite3_close(db);
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
}
BENCHMARK(BM_SingleRowCommit)->DenseRange(0, 2)->MinTime(2.0)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
