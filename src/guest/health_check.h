#pragma once
// The rules that turn the probe results of an app instance's health check (run_app's, see
// common/guest_messages.h) into a health state. They are Docker's HEALTHCHECK ones: failures
// inside the grace period do not count (the app may still be starting) but a success ends it;
// after it, `retries` failures in a row make the instance unhealthy, and one success makes it
// healthy again. Time is passed in, so the rules are tested without sleeping.

#include <cstdint>
#include <string>

#include "common/guest_messages.h"

namespace berth::guest {

enum class Health { kStarting, kHealthy, kUnhealthy };
const char* healthName(Health health);

class HealthTracker {
 public:
  HealthTracker(HealthCheck check, std::uint64_t started_ms);

  const HealthCheck& check() const { return check_; }
  Health state() const { return state_; }
  // The last failure's reason ("HTTP 500 from /healthz", "connection refused"), or empty.
  const std::string& detail() const { return detail_; }
  // When the next probe is due. While starting, probes run more often than `interval_ms`: 100 ms
  // after the start, then at doubling intervals up to 500 ms, so that a rollout learns of a
  // healthy instance quickly.
  std::uint64_t nextProbeMs() const { return next_probe_ms_; }

  // A probe's outcome; true when the state changed (the host is told then). The grace period
  // runs from the instance's first start, not from restarts: an app that crash-loops must
  // still end up unhealthy.
  bool record(bool ok, const std::string& detail, std::uint64_t now_ms);
  // The app's process ended (it will be restarted): it is `starting` again until a probe
  // passes, so that nothing routes to it meanwhile; true when that is a change.
  bool processExited(std::uint64_t now_ms);

 private:
  std::uint64_t nextStartingInterval();

  HealthCheck check_;
  Health state_ = Health::kStarting;
  std::string detail_;
  std::uint64_t grace_until_ms_ = 0;
  std::uint64_t next_probe_ms_ = 0;
  std::uint64_t starting_step_ms_ = 0;
  int failures_ = 0;
};

}  // namespace berth::guest
