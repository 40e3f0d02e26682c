#pragma once
// What the files of berth-init's supervisor (init.cc, init_exec.cc, init_probes.cc,
// init_metrics.cc) share: constants and small helpers.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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

}  // namespace berth::guest::init_util
