#include "agent/rollout.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace berth::agent {
namespace {

using Kind = RolloutAction::Kind;

// The check's own verdict comes first; this catches an instance that never gets one.
std::chrono::milliseconds healthLimit(const model::HealthSpec& h) {
  return std::chrono::milliseconds(h.grace_ms + (h.retries + 1) * (h.interval_ms + h.timeout_ms) +
                                   60'000);
}

RolloutAction stopInstance(const std::string& app, const Instance& instance) {
  return {Kind::kStopInstance, app, instance};
}

}  // namespace

Release releaseOf(const model::AppAssignment& app) {
  return Release{app.name,
                 app.release,
                 model::appSpecToJson(app.spec).dump(),
                 app.spec.health.enabled(),
                 app.spec.ports.size(),
                 healthLimit(app.spec.health)};
}

Rollouts::Rollouts(std::string vm, const Clock& clock, LogTail last_log_lines)
    : vm_(std::move(vm)), clock_(clock), last_log_lines_(std::move(last_log_lines)) {}

RolloutActions Rollouts::release(const Release& r) {
  const std::string& name = r.app;
  AppReport& report = reports_[name];
  auto serving = serving_.find(name);
  if (serving != serving_.end() && serving->second.release == r.release) return {};
  // What serves already runs this spec (berthd rolled back to it, say): it only takes the number.
  if (serving != serving_.end() && serving->second.spec == r.spec && !trials_.count(name)) {
    serving->second.release = r.release;
    const bool sick = serving->second.health == "unhealthy";
    report = {r.release, sick ? "unhealthy" : "running", sick ? serving->second.health_detail : "",
              0};
    return {{Kind::kSave, name}, {Kind::kReport, name}};
  }
  RolloutActions actions;
  if (auto trial = trials_.find(name); trial != trials_.end()) {
    if (trial->second.next.release == r.release) return {};
    // A newer release supersedes the one on trial.
    actions.push_back(stopInstance(name, trial->second.next));
    trials_.erase(trial);
  }
  if (report.release == r.release && report.state == "failed") return actions;
  // The instance still draining holds the slot the new one would take: its time is up.
  if (auto drain = drains_.find(name); drain != drains_.end()) {
    actions.push_back(stopInstance(name, drain->second.old));
    drains_.erase(drain);
  }
  const bool start_first = r.health_checked && r.ports <= 1 && serving != serving_.end();
  Instance next{name + "-" + std::to_string(r.release),
                r.release,
                r.spec,
                start_first ? 1 - serving->second.slot : 0,
                r.health_checked ? "starting" : "",
                ""};
  starting_[name] =
      Start{next, start_first, start_first ? serving->second.release : 0, r.health_limit};
  report = {r.release, "deploying", r.health_checked ? "waiting for the health check" : "", 0};
  actions.push_back({Kind::kReport, name});
  actions.push_back({Kind::kStartInstance, name, next, !start_first});
  return actions;
}

RolloutActions Rollouts::started(const std::string& app, const Status& outcome) {
  auto it = starting_.find(app);
  if (it == starting_.end()) return {};
  const Start start = std::move(it->second);
  starting_.erase(it);
  const Instance& next = start.next;
  AppReport& report = reports_[app];
  RolloutActions actions;
  if (!outcome.isOk()) {
    spdlog::warn("agent: deploy of {} release {} into {} failed: {}", app, next.release, vm_,
                 outcome.toString());
    // Stop-first: the old instance is gone already.
    if (!start.start_first && serving_.erase(app) > 0)
      actions.push_back({Kind::kSwitchTraffic, app});
    report = {next.release, "failed", outcome.message(), start.serving_release};
  } else {
    if (!next.health.empty()) {
      trials_[app] = Trial{next, clock_.now() + start.health_limit};
    } else {
      report = {next.release, "running", "", 0};
    }
    // Stop-first: the old instance is gone and the new one is all there is to send traffic to.
    if (!start.start_first) {
      serving_[app] = next;
      actions.push_back({Kind::kSwitchTraffic, app});
    }
  }
  actions.push_back({Kind::kSave, app});
  actions.push_back({Kind::kReport, app});
  return actions;
}

RolloutActions Rollouts::health(const HealthEvent& event) {
  if (auto trial = trials_.find(event.app);
      trial != trials_.end() && trial->second.next.id == event.instance) {
    if (event.health == "healthy") return finish(event.app, true, "");
    if (event.health == "unhealthy")
      return finish(event.app, false, "health check failed: " + event.detail);
    return {};
  }
  auto serving = serving_.find(event.app);
  if (serving == serving_.end() || serving->second.id != event.instance) return {};
  serving->second.health = event.health;
  serving->second.health_detail = event.detail;
  AppReport& report = reports_[event.app];
  if (report.release != serving->second.release || report.state == "deploying") return {};
  const bool sick = event.health == "unhealthy";
  report.state = sick ? "unhealthy" : "running";
  report.detail = sick ? "health check failing: " + event.detail : "";
  return {{Kind::kReport, event.app}};
}

RolloutActions Rollouts::expire() {
  std::vector<std::string> late;
  for (const auto& [name, trial] : trials_) {
    if (clock_.now() > trial.deadline) late.push_back(name);
  }
  RolloutActions actions;
  for (const std::string& name : late) {
    RolloutActions more = finish(name, false, "not healthy in time");
    actions.insert(actions.end(), more.begin(), more.end());
  }
  return actions;
}

RolloutActions Rollouts::finish(const std::string& app, bool healthy, const std::string& detail) {
  const Instance next = trials_[app].next;
  trials_.erase(app);
  AppReport& report = reports_[app];
  auto serving = serving_.find(app);
  const bool beside_old = serving != serving_.end() && serving->second.id != next.id;
  RolloutActions actions;
  if (healthy) {
    const std::optional<Instance> old = beside_old ? std::optional(serving->second) : std::nullopt;
    serving_[app] = next;
    serving_[app].health = "healthy";
    // The traffic switches first, and the old instance stops only once the connections it was
    // given are done: no connection is refused, none is cut.
    actions.push_back({Kind::kSwitchTraffic, app});
    if (old) drains_[app] = Drain{*old, clock_.now() + kDrainLimit};
    report = {next.release, "running", "", 0};
    spdlog::info("agent: {} release {} is healthy in {}", app, next.release, vm_);
  } else {
    const std::string lines = last_log_lines_ ? last_log_lines_(app, next.id) : "";
    actions.push_back(stopInstance(app, next));
    if (!beside_old && serving != serving_.end()) {
      serving_.erase(serving);
      actions.push_back({Kind::kSwitchTraffic, app});
    }
    report = {next.release, "failed",
              "release " + std::to_string(next.release) + " " + detail +
                  (lines.empty() ? "" : "; its last log lines:\n" + lines),
              beside_old ? serving->second.release : 0};
    spdlog::warn("agent: {} release {} failed in {}: {}", app, next.release, vm_, detail);
  }
  actions.push_back({Kind::kSave, app});
  actions.push_back({Kind::kReport, app});
  return actions;
}

RolloutActions Rollouts::drain(const OpenConnections& open_connections) {
  RolloutActions actions;
  for (auto it = drains_.begin(); it != drains_.end();) {
    const Drain& drain = it->second;
    const std::size_t open =
        clock_.now() < drain.deadline ? open_connections(it->first, drain.old) : 0;
    if (open > 0) {
      ++it;
      continue;
    }
    actions.push_back(stopInstance(it->first, drain.old));
    it = drains_.erase(it);
  }
  return actions;
}

RolloutActions Rollouts::keepOnly(const std::set<std::string>& apps) {
  std::erase_if(reports_, [&](const auto& r) { return !apps.count(r.first); });
  std::set<std::string> gone;
  for (const auto& [name, instance] : serving_) {
    if (!apps.count(name)) gone.insert(name);
  }
  for (const auto& [name, trial] : trials_) {
    if (!apps.count(name)) gone.insert(name);
  }
  RolloutActions actions;
  for (const std::string& name : gone) {
    actions.push_back({Kind::kStopApp, name});
    serving_.erase(name);
    trials_.erase(name);
    drains_.erase(name);
  }
  if (!gone.empty()) {
    actions.push_back({Kind::kSwitchTraffic, ""});
    actions.push_back({Kind::kSave, ""});
  }
  return actions;
}

RolloutActions Rollouts::guestRuns(const std::map<std::string, std::string>& running) {
  std::erase_if(serving_, [&](const auto& s) { return !running.count(s.second.id); });
  RolloutActions actions;
  for (const auto& [instance, app] : running) {
    const bool known = std::any_of(serving_.begin(), serving_.end(),
                                   [&](const auto& s) { return s.second.id == instance; });
    if (known || instance.empty()) continue;
    Instance unknown;
    unknown.id = instance;
    actions.push_back(stopInstance(app, unknown));
  }
  return actions;
}

void Rollouts::adopt(std::map<std::string, Instance> serving) { serving_ = std::move(serving); }

void Rollouts::forget() {
  serving_.clear();
  starting_.clear();
  trials_.clear();
  drains_.clear();
  reports_.clear();
}

}  // namespace berth::agent
