#pragma once
// Nodes of the fleet. An agent registers (idempotently) on every start, long-polls its
// assignment (the VMs placed on it and the app instances in them, with their secrets opened)
// and reports what it observes; the report doubles as the heartbeat. Instance reports add up
// to each app's status, and a failed rollout is recorded and rolled back (releases.h). A node
// token acts only for its own node; admins list and drain. Every change is written with its
// audit event in one transaction.
//
// Thread-safe: all state lives in the Store.

#include <string>
#include <vector>

#include "common/result.h"
#include "controlplane/service/secret_service.h"
#include "controlplane/service/service_context.h"
#include "model/node_protocol.h"

namespace berth::controlplane {

class NodeService {
 public:
  // `secrets` opens the secrets of the apps in an assignment. Both must outlive this.
  NodeService(const ServiceContext& context, const SecretService& secrets) : ctx_(context), secrets_(secrets) {}

  // Registers the node with its capacity and ingress; InvalidArgument for an ingress whose ports
  // are not 0..65535, that has HTTPS without HTTP, or whose CA is not one PEM certificate of at
  // most 16 KiB.
  Result<store::Node> registerNode(const Principal& who, store::Node node);
  Result<std::vector<store::Node>> list(const Principal& who);
  // The distinct CAs of the nodes' ingresses, PEM, concatenated (for `curl --cacert`): any token
  // may read them. NotFound when no node's ingress is its own CA.
  Result<std::string> ingressCa(const Principal& who);
  Result<store::Node> drain(const Principal& who, const std::string& name);
  // What `node` must run; its revision is the event sequence it reflects.
  Result<model::NodeAssignment> assignment(const Principal& who, const std::string& node);
  Status report(const Principal& who, const std::string& node, const std::vector<model::VmObservation>& vms,
                const std::vector<model::AppObservation>& apps = {});

 private:
  Status recordInstance(store::Tx& tx, const Principal& who, const std::string& node, const model::AppObservation& o);

  const ServiceContext& ctx_;
  const SecretService& secrets_;
};

}  // namespace berth::controlplane
