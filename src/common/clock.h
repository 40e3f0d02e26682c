#pragma once
// Time is injected: backoff, rate limits, heartbeats and health checks take a
// Clock so tests advance a FakeClock instead of sleeping.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace berth {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time, for intervals and deadlines.
  virtual std::chrono::steady_clock::time_point now() const = 0;
  // Wall time in milliseconds since the Unix epoch, for timestamps shown to users.
  virtual int64_t wallMillis() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() const override { return std::chrono::steady_clock::now(); }
  int64_t wallMillis() const override;
  // A process-wide instance; SystemClock has no state, so sharing it is safe.
  static SystemClock& instance();
};

// Thread-safe manual clock for tests.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t wall_millis = 1'700'000'000'000) : wall_millis_(wall_millis) {}
  std::chrono::steady_clock::time_point now() const override {
    std::lock_guard lock(mu_);
    return std::chrono::steady_clock::time_point(elapsed_);
  }
  int64_t wallMillis() const override {
    std::lock_guard lock(mu_);
    return wall_millis_ + std::chrono::duration_cast<std::chrono::milliseconds>(elapsed_).count();
  }
  void advance(std::chrono::nanoseconds d) {
    std::lock_guard lock(mu_);
    elapsed_ += d;
  }

 private:
  mutable std::mutex mu_;
  int64_t wall_millis_;
  std::chrono::nanoseconds elapsed_{std::chrono::hours(1)};
};

// RFC 3339 UTC with milliseconds: "2026-11-22T13:18:00.123Z".
std::string formatTimestamp(int64_t wall_millis);

}  // namespace berth
