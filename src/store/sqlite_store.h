#pragma once
// The embedded Store backend: one SQLite file in WAL mode with synchronous=FULL.
//
// Writes are serialized on one writer thread that commits concurrent write() calls together:
// each call runs inside its own SAVEPOINT of a shared transaction, so one call's failure rolls
// back only its own changes, and one fsync makes the whole group durable. This is what lets
// the API acknowledge more durable writes per second than single-row commits can.
// Reads run on a pool of read-only connections and never wait for the writer (WAL snapshots).

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "store/sqlite_db.h"
#include "store/store.h"

namespace berth::store {

class SqliteStore final : public Store {
 public:
  // Opens or creates the database at `path` and runs schema migrations.
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path);
  // Finishes queued writes, then closes every connection.
  ~SqliteStore() override;

  Status read(const std::function<Status(Tx&)>& fn) override;
  Status write(const std::function<Status(Tx&)>& fn) override;
  int64_t lastEventSeq() const override;
  int64_t waitForEvents(int64_t after, std::chrono::milliseconds timeout) override;
  void wakeAll() override;
  int64_t dataGeneration() const override;

  // Number of commits (fsyncs) and write() calls so far: their ratio is the group-commit factor.
  int64_t commitCount() const;
  int64_t writeCount() const;

 private:
  struct PendingWrite {
    const std::function<Status(Tx&)>* fn;
    std::promise<Status> done;
  };

  SqliteStore(std::string path, std::unique_ptr<SqliteDb> writer);
  void writerLoop();
  void commitBatch(std::vector<PendingWrite>& batch);
  Result<std::unique_ptr<SqliteDb>> acquireReader();
  void releaseReader(std::unique_ptr<SqliteDb> db);

  const std::string path_;
  std::unique_ptr<SqliteDb> writer_db_;

  mutable std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<PendingWrite> queue_;
  bool stopping_ = false;
  int64_t commits_ = 0;
  std::atomic<int64_t> data_generation_{0};
  int64_t writes_ = 0;

  std::mutex readers_mu_;
  std::vector<std::unique_ptr<SqliteDb>> idle_readers_;

  mutable std::mutex events_mu_;
  std::condition_variable events_cv_;
  int64_t last_event_seq_ = 0;
  uint64_t wake_generation_ = 0;

  std::thread writer_thread_;  // last: started after every other member exists
};

}  // namespace berth::store
