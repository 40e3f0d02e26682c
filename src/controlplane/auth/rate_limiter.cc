#include "controlplane/auth/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace berth::controlplane {

RateLimiter::Bucket& RateLimiter::refill(const std::string& key) {
  auto now = clock_.now();
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) pruneFull();
    it = buckets_.emplace(key, Bucket{limit_.burst, now}).first;
  }
  Bucket& b = it->second;
  double elapsed = std::chrono::duration<double>(now - b.updated).count();
  b.tokens = std::min(limit_.burst, b.tokens + elapsed * limit_.per_second);
  b.updated = now;
  return b;
}

void RateLimiter::pruneFull() {
  auto now = clock_.now();
  std::erase_if(buckets_, [&](const auto& kv) {
    double elapsed = std::chrono::duration<double>(now - kv.second.updated).count();
    return kv.second.tokens + elapsed * limit_.per_second >= limit_.burst;
  });
}

int RateLimiter::acquire(const std::string& key) {
  if (limit_.per_second <= 0) return 0;
  std::lock_guard lock(mu_);
  Bucket& b = refill(key);
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return std::max(1, static_cast<int>(std::ceil((1 - b.tokens) / limit_.per_second)));
}

bool RateLimiter::wouldAllow(const std::string& key) {
  if (limit_.per_second <= 0) return true;
  std::lock_guard lock(mu_);
  return refill(key).tokens >= 1;
}

}  // namespace berth::controlplane
