#include "guest/health_check.h"

#include <algorithm>

namespace berth::guest {
namespace {

using nlohmann::json;

constexpr std::uint64_t kFirstStartingIntervalMs = 100;
constexpr std::uint64_t kMaxStartingIntervalMs = 500;

bool isCount(const json& value) { return value.is_number_integer() && value.get<std::int64_t>() >= 0; }

Status readMillis(const json& health, const char* field, std::uint64_t min, std::uint64_t max, std::uint64_t& out) {
  auto it = health.find(field);
  if (it == health.end()) return Status::ok();
  if (!isCount(*it) || it->get<std::uint64_t>() < min || it->get<std::uint64_t>() > max) {
    return invalidArgument(std::string("health.") + field + " must be a number from " + std::to_string(min) + " to " +
                           std::to_string(max));
  }
  out = it->get<std::uint64_t>();
  return Status::ok();
}

}  // namespace

const char* healthName(Health health) {
  switch (health) {
    case Health::kStarting: return "starting";
    case Health::kHealthy: return "healthy";
    case Health::kUnhealthy: return "unhealthy";
  }
  return "unknown";
}

Result<HealthCheck> parseHealthCheck(const json& health) {
  if (!health.is_object()) return invalidArgument("health must be an object");
  HealthCheck check;
  check.type = health.value("type", std::string());
  if (check.type != "http" && check.type != "tcp" && check.type != "exec") {
    return invalidArgument("health.type must be http, tcp or exec");
  }
  if (check.type == "exec") {
    auto argv = health.find("command");
    if (argv == health.end() || !argv->is_array() || argv->empty()) {
      return invalidArgument("an exec health check needs a command");
    }
    for (const json& arg : *argv) {
      if (!arg.is_string()) return invalidArgument("health.command must be a list of strings");
      check.argv.push_back(arg.get<std::string>());
    }
  } else {
    auto port = health.find("port");
    if (port == health.end() || !isCount(*port) || port->get<std::uint64_t>() < 1 ||
        port->get<std::uint64_t>() > 65535) {
      return invalidArgument("an " + check.type + " health check needs a port from 1 to 65535");
    }
    check.port = static_cast<std::uint16_t>(port->get<std::uint64_t>());
  }
  if (auto path = health.find("path"); path != health.end()) {
    if (!path->is_string() || path->get<std::string>().empty() || path->get<std::string>()[0] != '/' ||
        path->get<std::string>().find_first_of(" \r\n") != std::string::npos) {
      return invalidArgument("health.path must start with '/' and hold no spaces or line breaks");
    }
    check.path = path->get<std::string>();
  }
  BERTH_RETURN_IF_ERROR(readMillis(health, "interval_ms", 100, 3'600'000, check.interval_ms));
  BERTH_RETURN_IF_ERROR(readMillis(health, "timeout_ms", 100, 600'000, check.timeout_ms));
  BERTH_RETURN_IF_ERROR(readMillis(health, "grace_ms", 0, 3'600'000, check.grace_ms));
  std::uint64_t retries = static_cast<std::uint64_t>(check.retries);
  BERTH_RETURN_IF_ERROR(readMillis(health, "retries", 1, 100, retries));
  check.retries = static_cast<int>(retries);
  return check;
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
