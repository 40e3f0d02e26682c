#pragma once
// A bounded in-memory history of one app's output, so that a host that reconnects (agent
// restart) can replay what it missed. Oldest chunks go first when the byte budget is exceeded.

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace berth::guest {

struct LogChunk {
  std::uint64_t seq = 0;
  std::uint64_t ts_ms = 0;
  bool stderr_stream = false;
  std::string data;
};

class LogRing {
 public:
  explicit LogRing(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // Stores a chunk and returns it with its sequence number (1, 2, ...).
  const LogChunk& append(std::uint64_t ts_ms, bool stderr_stream, std::string data);
  // Chunks with seq >= since that are still held.
  std::vector<LogChunk> since(std::uint64_t since) const;
  std::uint64_t nextSeq() const { return next_seq_; }
  std::size_t bytes() const { return bytes_; }

 private:
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  std::uint64_t next_seq_ = 1;
  std::deque<LogChunk> chunks_;
};

}  // namespace berth::guest
