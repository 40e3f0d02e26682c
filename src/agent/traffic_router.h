#pragma once
// The node's published ports and ingress domains: which instances each may reach, and which of
// them are down right now. Supervisors set their VM's routes (the serving instances' forwards); the
// guest channels' reader threads mark instances down (exited, failing their check) and up again as
// soon as the guest says so, so that a proxy stops sending to a dead instance within a frame's
// time, not a reconcile pass's. Each port's proxy (PortPublisher) gets the instances that are up;
// when none is, all of them (one may be back before the guest has said so, and refusing everything
// would be worse). Domains go to the node's ingress (ingress/ingress.h) by the same rules, once
// every VM has set its routes (before that, the ingress keeps serving what a previous agent gave
// it).
//
// Thread-safe; calls may block on a proxy process (starting it, or a control request).

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/ingress/ingress.h"
#include "agent/proxy/port_publisher.h"
#include "agent/vm_key.h"
#include "common/status.h"

namespace berth::agent {

struct Route {
  InstanceKey instance;
  Backend backend;  // where the node reaches the instance's guest port (VmNetwork::exposePort)
  bool operator==(const Route&) const = default;
};
using PortRoutes = std::map<int, std::vector<Route>>;            // by published host port
using DomainRoutes = std::map<std::string, std::vector<Route>>;  // by host name

class TrafficRouter {
 public:
  // Proxies found running in the publisher's directory (a previous agent's) are kept until
  // pruning starts; then those no VM routes to are stopped.
  // `ingress` must outlive this.
  TrafficRouter(PortPublisher publisher, Ingress& ingress);

  // Replaces `vm`'s routes (empty: it serves nothing) and its reservations.
  void setRoutes(const VmKey& vm, PortRoutes routes, DomainRoutes domains = {});
  // Makes sure `port` is the agent's own listener before `vm` starts an instance for it: a
  // port taken by something else is an error now. Kept until `vm` next sets its routes.
  Status reserve(const VmKey& vm, int port);
  // From here on, a published port no VM routes to (or reserves) is stopped. The agent calls
  // this once every VM it knew at start has set its routes.
  void startPruning();
  void markInstance(const InstanceKey& instance, bool up);
  // Connections through `port` still open to `backend` (an error counts as none).
  std::size_t connectionsTo(int port, const Backend& backend) const;
  // Requests under way through the ingress to `backend`.
  std::size_t ingressRequestsTo(const Backend& backend) const;
  // Tries again what the last change could not apply (a proxy or the ingress that failed).
  void retry();

 private:
  void applyLocked();
  void applyIngressLocked();

  mutable std::mutex mu_;
  PortPublisher publisher_;
  Ingress& ingress_;
  std::map<VmKey, PortRoutes> routes_;
  std::map<VmKey, DomainRoutes> domains_;
  std::map<VmKey, std::set<int>> reserved_;
  std::set<InstanceKey> down_;
  std::map<int, std::vector<Backend>> published_;  // host port -> backends its proxy was last given
  std::optional<DomainBackends> routed_;           // what the ingress was last given successfully
  bool pruning_ = false;
};

}  // namespace berth::agent
