#include "controlplane/http/blocking_pool.h"

#include <thread>

namespace berth::controlplane {

BlockingPool::~BlockingPool() {
  std::unique_lock lock(mu_);
  stopping_ = true;
  wake_.notify_all();
  drained_.wait(lock, [this] { return threads_ == 0; });
}

void BlockingPool::run(std::function<void()> task) {
  std::lock_guard lock(mu_);
  tasks_.push_back(std::move(task));
  if (idle_ >= tasks_.size()) {
    wake_.notify_one();
    return;
  }
  ++threads_;
  std::thread([this] { work(); }).detach();
}

size_t BlockingPool::threads() const {
  std::lock_guard lock(mu_);
  return threads_;
}

void BlockingPool::work() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (!tasks_.empty()) {
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      task = nullptr;  // captured state (a connection) is released outside the lock
      lock.lock();
      continue;
    }
    if (stopping_) break;
    ++idle_;
    bool woken = wake_.wait_for(lock, idle_exit_, [this] { return stopping_ || !tasks_.empty(); });
    --idle_;
    if (!woken) break;
  }
  --threads_;
  drained_.notify_all();
}

}  // namespace berth::controlplane
