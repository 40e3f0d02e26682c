#include "guest/log_ring.h"

#include <utility>

namespace berth::guest {

const LogChunk& LogRing::append(std::uint64_t ts_ms, bool stderr_stream, std::string data) {
  if (data.size() > max_bytes_) data.erase(0, data.size() - max_bytes_);
  bytes_ += data.size();
  chunks_.push_back(LogChunk{next_seq_++, ts_ms, stderr_stream, std::move(data)});
  while (bytes_ > max_bytes_ && chunks_.size() > 1) {
    bytes_ -= chunks_.front().data.size();
    chunks_.pop_front();
  }
  return chunks_.back();
}

std::vector<LogChunk> LogRing::since(std::uint64_t since) const {
  std::vector<LogChunk> out;
  for (const LogChunk& chunk : chunks_) {
    if (chunk.seq >= since) out.push_back(chunk);
  }
  return out;
}

}  // namespace berth::guest
