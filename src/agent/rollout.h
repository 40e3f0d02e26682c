#pragma once
// The decisions of a VM's releases, as pure logic over its apps' instances: which instance to
// start for a release (start-first beside the serving one, or stop-first), when it takes the
// traffic (healthy), when it has failed (unhealthy, or not healthy in time), when a replaced
// instance may stop (its connections done, or its drain time up). The supervisor executes
// the actions it returns and tells it what came of a start; time comes from the Clock.
//
// A release whose spec has a health check is rolled out start-first when it can be: the new
// instance starts beside the serving one, on the other slot's port, and takes the traffic only
// once init reports it healthy; then the old one drains and stops. If it never becomes healthy
// it is stopped, the old one never stopped serving, and the failure is reported with the
// instance's last log lines (berthd then rolls the app back). Without a check, or with more
// than one port, the old instance stops first. docs/rollouts.md has the rules.
//
// Not thread-safe: one supervisor's worker owns it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/instance.h"
#include "common/clock.h"
#include "common/status.h"
#include "model/node_protocol.h"

namespace berth::agent {

// How long a replaced instance may keep finishing the connections it has (Kamal's default).
inline constexpr std::chrono::seconds kDrainLimit{30};

// What the node reports for one app in the VM.
struct AppReport {
  int64_t release = 0;
  std::string state;  // deploying | running | unhealthy | failed
  std::string detail;
  int64_t serving_release = 0;  // after a failed rollout: the release still serving
  bool operator==(const AppReport&) const = default;
};

// A release as the rollout decisions need it.
struct Release {
  std::string app;
  int64_t release = 0;
  std::string spec;  // the spec's JSON text
  bool health_checked = false;
  std::size_t ports = 0;
  // How long its new instance may take to become healthy before the release counts as failed.
  std::chrono::milliseconds health_limit{0};
};
Release releaseOf(const model::AppAssignment& app);

// A change of an instance's health, as the guest reported it (app_health).
struct HealthEvent {
  std::string app, instance, health, detail;
};

struct RolloutAction {
  enum class Kind {
    kStartInstance,  // run `instance` of `app` (`replace`: stopping its other instances); then call
                     // started()
    kStopInstance,   // stop `instance` of `app`
    kStopApp,        // stop every instance of `app`
    kSwitchTraffic,  // point the published ports at serving()
    kSave,           // persist serving()
    kReport,         // report reports()
  };
  Kind kind;
  std::string app;
  Instance instance = {};
  bool replace = false;
  bool operator==(const RolloutAction&) const = default;
};
using RolloutActions = std::vector<RolloutAction>;

class Rollouts {
 public:
  // `last_log_lines(app, instance)` gives the output a failed release's report quotes.
  using LogTail = std::function<std::string(const std::string& app, const std::string& instance)>;
  // `vm` names the VM in logs. `clock` must outlive this.
  Rollouts(std::string vm, const Clock& clock, LogTail last_log_lines);

  // Brings `release.app` to that release. A release that failed is not tried again (a newer
  // release, or forget() after a reboot, tries again).
  RolloutActions release(const Release& release);
  // What came of the last kStartInstance of `app`.
  RolloutActions started(const std::string& app, const Status& outcome);
  RolloutActions health(const HealthEvent& event);
  // Fails the new instances that did not become healthy in time.
  RolloutActions expire();
  // Stops the replaced instances that have no connection open (`open_connections(app, old)`)
  // or whose drain time is up.
  using OpenConnections = std::function<std::size_t(const std::string& app, const Instance& old)>;
  RolloutActions drain(const OpenConnections& open_connections);
  // Stops every app not in `apps` and forgets it.
  RolloutActions keepOnly(const std::set<std::string>& apps);
  // What the guest said it runs (instance -> app), on hello: serving instances it does not run
  // are forgotten, and instances nobody knows (a rollout cut short by an agent restart) stop.
  RolloutActions guestRuns(const std::map<std::string, std::string>& running);

  // Serving instances read back from an earlier agent's record (adoption).
  void adopt(std::map<std::string, Instance> serving);
  // The guest is gone (powered off, died, booted anew): nothing runs in it any more.
  void forget();

  const std::map<std::string, Instance>& serving() const { return serving_; }
  const std::map<std::string, AppReport>& reports() const { return reports_; }
  // A rollout waits for a health check or a drain: time matters.
  bool busy() const { return !trials_.empty() || !drains_.empty(); }

 private:
  struct Trial {
    Instance next;
    std::chrono::steady_clock::time_point deadline;
  };
  struct Start {
    Instance next;
    bool start_first = false;
    int64_t serving_release = 0;
    std::chrono::milliseconds health_limit{0};
  };
  struct Drain {
    Instance old;
    std::chrono::steady_clock::time_point deadline;
  };
  RolloutActions finish(const std::string& app, bool healthy, const std::string& detail);

  std::string vm_;
  const Clock& clock_;
  LogTail last_log_lines_;
  std::map<std::string, Instance> serving_;  // app -> the instance taking its traffic
  std::map<std::string, Start> starting_;    // app -> the instance being started
  std::map<std::string, Trial> trials_;      // app -> a new instance waiting to be healthy
  std::map<std::string, Drain> drains_;  // app -> the instance it replaced, finishing its requests
  std::map<std::string, AppReport> reports_;
};

}  // namespace berth::agent
