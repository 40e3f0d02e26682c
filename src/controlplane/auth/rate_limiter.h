#pragma once
// Token-bucket rate limits keyed by string (a token id, a source address). Time comes from an
// injected Clock so tests advance it instead of sleeping. Thread-safe.

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/clock.h"

namespace berth::controlplane {

struct RateLimit {
  double per_second = 100;  // refill rate; <= 0 disables the limit
  double burst = 200;       // bucket capacity
};

class RateLimiter {
 public:
  RateLimiter(const Clock& clock, RateLimit limit, size_t max_keys = 100'000)
      : clock_(clock), limit_(limit), max_keys_(max_keys) {}

  // Takes one token for `key`. Returns 0 if allowed, else the whole seconds (>= 1) until a
  // token will be available, for Retry-After.
  int acquire(const std::string& key);
  // True if `key` has at least one token left, without taking it.
  bool wouldAllow(const std::string& key);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point updated;
  };
  Bucket& refill(const std::string& key);
  // Drops buckets that have refilled completely: they hold no information.
  void pruneFull();

  const Clock& clock_;
  const RateLimit limit_;
  const size_t max_keys_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace berth::controlplane
