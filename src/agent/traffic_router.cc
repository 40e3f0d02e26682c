#include "agent/traffic_router.h"

#include <spdlog/spdlog.h>

namespace berth::agent {

namespace {

// The backends of `routes` whose instances are up; all of them when none is.
std::vector<Backend> liveBackends(const std::vector<const Route*>& routes,
                                  const std::set<InstanceKey>& down) {
  std::vector<Backend> up, all;
  for (const Route* route : routes) {
    all.push_back(route->backend);
    if (!down.count(route->instance)) up.push_back(route->backend);
  }
  return up.empty() ? all : up;
}

}  // namespace

TrafficRouter::TrafficRouter(PortPublisher publisher, Ingress& ingress)
    : publisher_(std::move(publisher)), ingress_(ingress) {
  // A previous agent's proxies: kept if still wanted (then told their backends), else stopped.
  for (int port : publisher_.published()) published_.emplace(port, std::vector<Backend>{"unknown"});
}

void TrafficRouter::setRoutes(const VmKey& vm, PortRoutes routes, DomainRoutes domains) {
  std::lock_guard lock(mu_);
  if (routes.empty()) {
    routes_.erase(vm);
  } else {
    routes_[vm] = std::move(routes);
  }
  if (domains.empty()) {
    domains_.erase(vm);
  } else {
    domains_[vm] = std::move(domains);
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

std::size_t TrafficRouter::ingressRequestsTo(const Backend& backend) const {
  return ingress_.requestsTo(backend);
}

void TrafficRouter::retry() {
  std::lock_guard lock(mu_);
  applyLocked();
}

void TrafficRouter::applyIngressLocked() {
  std::map<std::string, std::vector<const Route*>> by_host;
  for (const auto& [vm, domains] : domains_) {
    for (const auto& [host, routes] : domains) {
      for (const Route& route : routes) by_host[host].push_back(&route);
    }
  }
  DomainBackends wanted;
  for (const auto& [host, routes] : by_host) wanted[host] = liveBackends(routes, down_);
  if (routed_ == wanted) return;
  if (Status routed = ingress_.route(wanted); !routed.isOk()) {
    spdlog::warn("agent: ingress: {}", routed.toString());
    return;
  }
  routed_ = std::move(wanted);
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
      const bool reserved = std::any_of(reserved_.begin(), reserved_.end(),
                                        [&](const auto& r) { return r.second.count(it->first); });
      if (by_port.count(it->first) || reserved) {
        ++it;
        continue;
      }
      (void)publisher_.unpublish(it->first);
      it = published_.erase(it);
    }
  }
  if (pruning_) applyIngressLocked();
  for (const auto& [port, routes] : by_port) {
    const std::vector<Backend> backends = liveBackends(routes, down_);
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
