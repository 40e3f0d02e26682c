#pragma once
// The node's HTTPS ingress: host-based routes from an app's domains to the instances serving it
// on this node (docs/networking.md "Ingress"). Two implementations: Caddy driven through its
// admin API (caddy_ingress.h), and none (an agent started with --ingress none), which refuses
// every route so that a domain nobody serves is reported, not silently dropped.
//
// Thread-safe; route() may block on the ingress process (starting it, reloading it).

#include <map>
#include <string>
#include <vector>

#include "agent/proxy/port_proxy.h"
#include "common/result.h"
#include "model/node_protocol.h"

namespace berth::agent {

// Host name -> the backends ("address:port") its requests go to; each has at least one.
using DomainBackends = std::map<std::string, std::vector<Backend>>;

class Ingress {
 public:
  virtual ~Ingress() = default;
  // Makes `domains` the complete set of routes. Requests already under way finish on the
  // backends they started on.
  virtual Status route(const DomainBackends& domains) = 0;
  // Requests under way to `backend`, for draining a replaced instance (an error counts as none).
  virtual std::size_t requestsTo(const Backend& backend) const = 0;
  // What the node registers (ports and CA); https_port 0 when it runs none.
  virtual model::NodeIngress describe() const = 0;
};

class NoIngress : public Ingress {
 public:
  Status route(const DomainBackends& domains) override;
  std::size_t requestsTo(const Backend&) const override { return 0; }
  model::NodeIngress describe() const override { return {}; }
};

}  // namespace berth::agent
