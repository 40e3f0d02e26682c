#include "guest/health_check.h"

#include <algorithm>

namespace berth::guest {
namespace {

constexpr std::uint64_t kFirstStartingIntervalMs = 100;
constexpr std::uint64_t kMaxStartingIntervalMs = 500;

}  // namespace

const char* healthName(Health health) {
  switch (health) {
    case Health::kStarting: return "starting";
    case Health::kHealthy: return "healthy";
    case Health::kUnhealthy: return "unhealthy";
  }
  return "unknown";
}

HealthTracker::HealthTracker(HealthCheck check, std::uint64_t started_ms)
    : check_(std::move(check)), grace_until_ms_(started_ms + check_.grace_ms) {
  next_probe_ms_ = started_ms + nextStartingInterval();
}

std::uint64_t HealthTracker::nextStartingInterval() {
  const std::uint64_t cap = std::min(check_.interval_ms, kMaxStartingIntervalMs);
  starting_step_ms_ = starting_step_ms_ == 0 ? kFirstStartingIntervalMs : starting_step_ms_ * 2;
  return std::min(starting_step_ms_, cap);
}

bool HealthTracker::record(bool ok, const std::string& detail, std::uint64_t now_ms) {
  const Health before = state_;
  if (ok) {
    failures_ = 0;
    detail_.clear();
    state_ = Health::kHealthy;
  } else {
    detail_ = detail;
    if (now_ms >= grace_until_ms_ && ++failures_ >= check_.retries) state_ = Health::kUnhealthy;
  }
  next_probe_ms_ = now_ms + (state_ == Health::kStarting ? nextStartingInterval() : check_.interval_ms);
  return state_ != before;
}

bool HealthTracker::processExited(std::uint64_t now_ms) {
  if (state_ == Health::kStarting) return false;
  state_ = Health::kStarting;
  failures_ = 0;
  starting_step_ms_ = 0;
  next_probe_ms_ = now_ms + nextStartingInterval();
  return true;
}

}  // namespace berth::guest
