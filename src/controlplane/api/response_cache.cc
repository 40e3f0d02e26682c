#include "controlplane/api/response_cache.h"

namespace berth::controlplane {

std::optional<HttpResponse> ResponseCache::find(const std::string& key, int64_t generation) {
  std::lock_guard lock(mu_);
  if (generation != generation_) {
    if (generation > generation_) resetTo(generation);
    return std::nullopt;
  }
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void ResponseCache::put(const std::string& key, int64_t generation, const HttpResponse& response) {
  if (response.status != 200 || response.stream) return;
  const size_t size = key.size() + response.body.size();
  if (size > max_entry_bytes_) return;
  std::lock_guard lock(mu_);
  if (generation < generation_) return;
  if (generation > generation_) resetTo(generation);
  if (bytes_ + size > max_bytes_ || entries_.contains(key)) return;
  entries_.emplace(key, response);
  bytes_ += size;
}

void ResponseCache::resetTo(int64_t generation) {
  entries_.clear();
  bytes_ = 0;
  generation_ = generation;
}

}  // namespace berth::controlplane
