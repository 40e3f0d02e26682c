#include "agent/traffic_router.h"

#include <spdlog/spdlog.h>

namespace berth::agent {

TrafficRouter::TrafficRouter(PortPublisher publisher) : publisher_(std::move(publisher)) {
  // A previous agent's proxies: kept if still wanted (then told their backends), else stopped.
  for (int port : publisher_.published()) published_.emplace(port, std::vector<Backend>{"unknown"});
}

void TrafficRouter::setRoutes(const VmKey& vm, PortRoutes routes) {
  std::lock_guard lock(mu_);
  if (routes.empty()) {
    routes_.erase(vm);
  } else {
    routes_[vm] = std::move(routes);
  }
  reserved_.erase(vm);
  applyLocked();
}

Status TrafficRouter::reserve(const VmKey& vm, int port) {
  std::lock_guard lock(mu_);
  if (!published_.count(port)) {
    BERTH_RETURN_IF_ERROR(publisher_.publish(port, {}));
    published_[port] = {};
  }
  reserved_[vm].insert(port);
  return Status::ok();
}

void TrafficRouter::startPruning() {
  std::lock_guard lock(mu_);
  pruning_ = true;
  applyLocked();
}

void TrafficRouter::markInstance(const InstanceKey& instance, bool up) {
  std::lock_guard lock(mu_);
  if (up ? down_.erase(instance) == 0 : !down_.insert(instance).second) return;
  applyLocked();
}

std::size_t TrafficRouter::connectionsTo(int port, const Backend& backend) const {
  std::lock_guard lock(mu_);
  auto count = publisher_.connectionsTo(port, backend);
  return count.isOk() ? *count : 0;
}

void TrafficRouter::applyLocked() {
  std::map<int, std::vector<const Route*>> by_port;
  for (const auto& [vm, routes] : routes_) {
    for (const auto& [port, port_routes] : routes) {
      for (const Route& route : port_routes) by_port[port].push_back(&route);
    }
  }
  if (pruning_) {
    for (auto it = published_.begin(); it != published_.end();) {
      const bool reserved =
          std::any_of(reserved_.begin(), reserved_.end(), [&](const auto& r) { return r.second.count(it->first); });
      if (by_port.count(it->first) || reserved) {
        ++it;
        continue;
      }
      (void)publisher_.unpublish(it->first);
      it = published_.erase(it);
    }
  }
  for (const auto& [port, routes] : by_port) {
    std::vector<Backend> up, all;
    for (const Route* route : routes) {
      all.push_back(route->backend);
      if (!down_.count(route->instance)) up.push_back(route->backend);
    }
    const std::vector<Backend>& backends = up.empty() ? all : up;
    if (auto it = published_.find(port); it != published_.end() && it->second == backends) continue;
    Status published = publisher_.publish(port, backends);
    if (!published.isOk()) {
      spdlog::warn("agent: cannot publish 127.0.0.1:{}: {}", port, published.toString());
      continue;
    }
    published_[port] = backends;
  }
}

}  // namespace berth::agent
