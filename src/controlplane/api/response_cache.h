#pragma once
// Rendered GET responses, kept until the next committed write. A listing that dashboards and
// CLIs poll is then a lookup and a copy instead of a read transaction and a render each time.
// Entries are tagged with the store's dataGeneration() read before the response was built; an
// entry is served only while the generation is unchanged, so a client that got a 2xx for a
// write never reads an older listing afterwards. Bounded in bytes. Thread-safe.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "controlplane/http/http_types.h"

namespace berth::controlplane {

class ResponseCache {
 public:
  explicit ResponseCache(size_t max_bytes = 8u << 20, size_t max_entry_bytes = 512u << 10)
      : max_bytes_(max_bytes), max_entry_bytes_(max_entry_bytes) {}

  // The response stored under `key` for exactly this generation.
  std::optional<HttpResponse> find(const std::string& key, int64_t generation);
  // Keeps a 200 response built from data read at `generation`; an older generation than the
  // newest seen is dropped, a newer one empties the cache first.
  void put(const std::string& key, int64_t generation, const HttpResponse& response);

 private:
  void resetTo(int64_t generation);

  const size_t max_bytes_;
  const size_t max_entry_bytes_;
  std::mutex mu_;
  int64_t generation_ = -1;
  size_t bytes_ = 0;
  std::map<std::string, HttpResponse> entries_;
};

}  // namespace berth::controlplane
