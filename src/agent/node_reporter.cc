#include "agent/node_reporter.h"

#include <spdlog/spdlog.h>

namespace berth::agent {

NodeReporter::NodeReporter(std::string node, client::ApiClient& api) : node_(std::move(node)), api_(api) {}

NodeReporter::~NodeReporter() { stop(); }

void NodeReporter::start() { thread_ = std::thread([this] { loop(); }); }

void NodeReporter::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void NodeReporter::publish(const VmKey& vm, VmSnapshot snapshot) {
  {
    std::lock_guard lock(mu_);
    auto [it, added] = snapshots_.try_emplace(vm, snapshot);
    if (!added && it->second == snapshot) return;
    it->second = std::move(snapshot);
    due_ = true;
  }
  cv_.notify_all();
}

void NodeReporter::remove(const VmKey& vm) {
  {
    std::lock_guard lock(mu_);
    if (snapshots_.erase(vm) == 0) return;
    due_ = true;
  }
  cv_.notify_all();
}

void NodeReporter::poke() {
  {
    std::lock_guard lock(mu_);
    due_ = true;
  }
  cv_.notify_all();
}

model::NodeReport NodeReporter::build() const {
  std::lock_guard lock(mu_);
  model::NodeReport report;
  for (const auto& [vm, snapshot] : snapshots_) {
    report.vms.push_back(snapshot.vm);
    report.apps.insert(report.apps.end(), snapshot.apps.begin(), snapshot.apps.end());
  }
  return report;
}

void NodeReporter::loop() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return due_ || stopping_; });
      if (stopping_) return;
      due_ = false;
    }
    auto sent = api_.post("/v1/nodes/" + node_ + "/status", model::nodeReportToJson(build()));
    if (!sent.isOk()) spdlog::warn("agent: status report failed: {}", sent.status().toString());
  }
}

}  // namespace berth::agent
