#include "store/sqlite_store.h"

#include "store/sqlite_migrations.h"
#include "store/sqlite_tx.h"

namespace berth::store {

namespace {
// Bounds the latency one batch adds; large enough that the fsync dominates.
constexpr size_t kMaxBatch = 512;
// Idle read connections kept; more are opened under load and closed afterwards.
constexpr size_t kMaxIdleReaders = 8;

Result<int64_t> maxEventSeq(SqliteDb& db) {
  BERTH_ASSIGN_OR_RETURN(Statement st, db.prepare("SELECT COALESCE(MAX(seq), 0) FROM events"));
  BERTH_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return internalError("MAX(seq) returned no row");
  return st.int64At(0);
}
// A transaction function that throws must not take the writer thread (and every later write)
// down with it; the throw becomes that call's failure.
Status runGuarded(const std::function<Status(Tx&)>& fn, Tx& tx) {
  try {
    return fn(tx);
  } catch (const std::exception& e) {
    return internalError(std::string("transaction failed: ") + e.what());
  }
}
}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(auto db, SqliteDb::open(path, /*read_only=*/false));
  BERTH_RETURN_IF_ERROR(migrate(*db).withContext("cannot prepare database '" + path + "'"));
  BERTH_ASSIGN_OR_RETURN(int64_t seq, maxEventSeq(*db));
  std::unique_ptr<SqliteStore> store(new SqliteStore(path, std::move(db)));
  store->last_event_seq_ = seq;
  return store;
}

SqliteStore::SqliteStore(std::string path, std::unique_ptr<SqliteDb> writer)
    : path_(std::move(path)), writer_db_(std::move(writer)), writer_thread_([this] { writerLoop(); }) {}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  writer_thread_.join();
  wakeAll();
}

Status SqliteStore::write(const std::function<Status(Tx&)>& fn) {
  std::future<Status> result;
  {
    std::lock_guard lock(queue_mu_);
    if (stopping_) return unavailable("the store is shutting down");
    queue_.push_back(PendingWrite{&fn, {}});
    result = queue_.back().done.get_future();
  }
  queue_cv_.notify_one();
  return result.get();
}

void SqliteStore::writerLoop() {
  std::vector<PendingWrite> batch;
  for (;;) {
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and every queued write is done
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    commitBatch(batch);
    batch.clear();
  }
}

void SqliteStore::commitBatch(std::vector<PendingWrite>& batch) {
  std::vector<Status> results(batch.size());
  Status begin = writer_db_->run("BEGIN IMMEDIATE");
  if (!begin.isOk()) {
    for (auto& w : batch) w.done.set_value(begin.withContext("cannot start a transaction"));
    return;
  }
  SqliteTx tx(*writer_db_);
  bool any_ok = false;
  for (size_t i = 0; i < batch.size(); ++i) {
    Status s = writer_db_->run("SAVEPOINT w");
    if (s.isOk()) s = runGuarded(*batch[i].fn, tx);
    // A failed call undoes only its own changes; RELEASE then closes its savepoint either way.
    if (!s.isOk()) (void)writer_db_->run("ROLLBACK TO w");
    Status released = writer_db_->run("RELEASE w");
    if (s.isOk() && !released.isOk()) s = released;
    any_ok = any_ok || s.isOk();
    results[i] = s;
  }
  Status commit = writer_db_->run("COMMIT");
  if (!commit.isOk()) {
    (void)writer_db_->run("ROLLBACK");
    commit = unavailable("the database could not commit: " + commit.message());
  }
  int64_t seq = 0;
  if (commit.isOk() && any_ok) {
    auto max = maxEventSeq(*writer_db_);
    if (max.isOk()) seq = *max;
  }
  if (commit.isOk() && any_ok) data_generation_.fetch_add(1);
  {
    std::lock_guard lock(queue_mu_);
    ++commits_;
    writes_ += static_cast<int64_t>(batch.size());
  }
  // Publish the new events before releasing the writers: a caller that returns from write()
  // must see its own events in lastEventSeq().
  if (seq > 0) {
    {
      std::lock_guard lock(events_mu_);
      if (seq > last_event_seq_) last_event_seq_ = seq;
    }
    events_cv_.notify_all();
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    batch[i].done.set_value(commit.isOk() ? results[i] : commit);
  }
}

Result<std::unique_ptr<SqliteDb>> SqliteStore::acquireReader() {
  {
    std::lock_guard lock(readers_mu_);
    if (!idle_readers_.empty()) {
      auto db = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return db;
    }
  }
  return SqliteDb::open(path_, /*read_only=*/true);
}

void SqliteStore::releaseReader(std::unique_ptr<SqliteDb> db) {
  std::lock_guard lock(readers_mu_);
  if (idle_readers_.size() < kMaxIdleReaders) idle_readers_.push_back(std::move(db));
}

Status SqliteStore::read(const std::function<Status(Tx&)>& fn) {
  BERTH_ASSIGN_OR_RETURN(auto db, acquireReader());
  BERTH_RETURN_IF_ERROR(db->run("BEGIN"));
  SqliteTx tx(*db);
  Status s = runGuarded(fn, tx);
  Status end = db->run("COMMIT");
  if (end.isOk()) releaseReader(std::move(db));
  return s.isOk() ? end : s;
}

int64_t SqliteStore::lastEventSeq() const {
  std::lock_guard lock(events_mu_);
  return last_event_seq_;
}

int64_t SqliteStore::waitForEvents(int64_t after, std::chrono::milliseconds timeout) {
  std::unique_lock lock(events_mu_);
  uint64_t generation = wake_generation_;
  events_cv_.wait_for(lock, timeout, [&] { return last_event_seq_ > after || wake_generation_ != generation; });
  return last_event_seq_;
}

void SqliteStore::wakeAll() {
  {
    std::lock_guard lock(events_mu_);
    ++wake_generation_;
  }
  events_cv_.notify_all();
}

int64_t SqliteStore::dataGeneration() const { return data_generation_.load(); }

int64_t SqliteStore::commitCount() const {
  std::lock_guard lock(queue_mu_);
  return commits_;
}

int64_t SqliteStore::writeCount() const {
  std::lock_guard lock(queue_mu_);
  return writes_;
}

}  // namespace berth::store
