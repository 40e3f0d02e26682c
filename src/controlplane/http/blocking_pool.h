#pragma once
// Runs tasks that may block for long (a durable write waiting for its group commit, a long-poll,
// an SSE stream) off the HTTP server's event loop. A cached pool: a task starts at once on an
// idle thread or a new one, so one slow task never delays another; threads idle for
// `idle_exit` end. Thread-safe. The destructor waits for every running task to return.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>

namespace berth::controlplane {

class BlockingPool {
 public:
  explicit BlockingPool(std::chrono::seconds idle_exit = std::chrono::seconds(30)) : idle_exit_(idle_exit) {}
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  void run(std::function<void()> task);
  size_t threads() const;

 private:
  void work();

  const std::chrono::seconds idle_exit_;
  mutable std::mutex mu_;
  std::condition_variable wake_;     // tasks queued or stopping
  std::condition_variable drained_;  // a thread ended
  std::deque<std::function<void()>> tasks_;
  size_t threads_ = 0;
  size_t idle_ = 0;
  bool stopping_ = false;
};

}  // namespace berth::controlplane
