#pragma once
// What the files of berth-init's supervisor (init.cc, init_exec.cc, init_probes.cc,
// init_metrics.cc) share: constants and small helpers.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <unistd.h>

#include <cerrno>
#include <optional>

#include <nlohmann/json.hpp>

#include "os/unique_fd.h"

namespace berth::guest::init_util {

using nlohmann::json;

inline constexpr std::uint64_t kDefaultGraceMs = 10'000;
inline constexpr int kMaxBackoffMs = 30'000;
inline constexpr const char* kStoreDir = "/var/lib/berth";

inline std::uint64_t monotonicMs() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now().time_since_epoch()).count());
}

inline std::uint64_t wallMs() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch()).count());
}

inline std::vector<std::string> envList(const json& body) {
  std::vector<std::string> env;
  if (auto it = body.find("env"); it != body.end()) {
    for (const auto& item : it->items()) env.push_back(item.key() + "=" + item.value().get<std::string>());
  }
  return env;
}

// One read (up to 16 KiB) from a child's output pipe: the bytes, or nothing when there are none
// yet; at EOF or on an error the pipe is closed (and nothing returned).
inline std::optional<std::string> readChunk(os::UniqueFd& fd) {
  char buffer[16 * 1024];
  const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) fd.reset();
  if (n <= 0) return std::nullopt;
  return std::string(buffer, static_cast<std::size_t>(n));
}

}  // namespace berth::guest::init_util
