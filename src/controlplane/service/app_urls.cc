#include "controlplane/service/app_urls.h"

#include <algorithm>
#include <set>

#include "controlplane/service/domain_service.h"
#include "controlplane/service/placement.h"

namespace berth::controlplane {

namespace {
constexpr int64_t kDefaultHttpsPort = 443;

// A node's address as a URL's host: "10.0.0.5:7071" and "10.0.0.5" give 10.0.0.5, "::1" gives
// [::1].
std::string urlHost(const std::string& address) {
  if (address.empty()) return "127.0.0.1";
  if (address.front() == '[') return address.substr(0, address.find(']') + 1);
  const auto colons = std::count(address.begin(), address.end(), ':');
  if (colons == 1) return address.substr(0, address.find(':'));
  if (colons > 1) return "[" + address + "]";
  return address;
}

int64_t httpsPort(const std::vector<store::Node>& nodes, const std::set<std::string>& placed) {
  for (const auto& n : nodes) {
    if (n.ingress_https_port > 0 && placed.count(n.name)) return n.ingress_https_port;
  }
  for (const auto& n : nodes) {
    if (n.ingress_https_port > 0) return n.ingress_https_port;
  }
  return kDefaultHttpsPort;
}
}  // namespace

Status fillAppUrls(store::Tx& tx, const std::string& base_domain,
                   const std::vector<store::Node>& nodes, store::App& app) {
  BERTH_ASSIGN_OR_RETURN(app.domains, appDomains(tx, base_domain, app.project, app.name));
  BERTH_ASSIGN_OR_RETURN(model::AppSpec spec, model::appSpecFromJson(app.spec_json));
  BERTH_ASSIGN_OR_RETURN(auto placement, appPlacement(tx, app.project, spec));
  std::set<std::string> placed;
  for (const auto& vm : placement) {
    if (vm.node) placed.insert(*vm.node);
  }
  app.urls.clear();
  const int64_t https = httpsPort(nodes, placed);
  for (const auto& name : app.domains) {
    app.urls.push_back("https://" + name +
                       (https == kDefaultHttpsPort ? "" : ":" + std::to_string(https)));
  }
  std::set<std::string> hosts;
  for (const auto& n : nodes) {
    if (placed.count(n.name)) hosts.insert(urlHost(n.address));
  }
  if (hosts.empty()) hosts.insert(urlHost(""));
  // Only the ports the app holds reach it (two apps may publish one port from before claims).
  BERTH_ASSIGN_OR_RETURN(auto claims, tx.listHostPortClaims(app.project, app.name));
  std::set<int64_t> held;
  for (const auto& c : claims) held.insert(c.port);
  for (const auto& port : spec.ports) {
    if (port.protocol != "tcp" || port.host_port == 0 || !held.count(port.host_port)) continue;
    for (const auto& host : hosts)
      app.urls.push_back("http://" + host + ":" + std::to_string(port.host_port));
  }
  return Status::ok();
}

}  // namespace berth::controlplane
