#pragma once
// init's two clocks in milliseconds: monotonic for deadlines, restarts and probes; wall for the
// timestamps of log chunks.

#include <chrono>
#include <cstdint>

namespace berth::guest {

inline std::uint64_t monotonicMs() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now().time_since_epoch()).count());
}

inline std::uint64_t wallMs() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch()).count());
}

}  // namespace berth::guest
