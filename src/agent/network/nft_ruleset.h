#pragma once
// The node's nftables ruleset for its project networks, as one `nft -f` document that replaces
// both `berth` tables (inet: the host and routing; bridge: what each tap may send) in one
// atomic transaction. Re-applied whole on every change and on agent start; an empty plan leaves
// empty tables, removeRuleset() deletes them.
//
// The rules (docs/networking.md):
//   - a guest reaches its own project's VMs (one bridge: switched, never routed);
//   - it reaches no other project's VM, no address of the host (loopback included) except its
//     own bridge's resolver on port 53, and nothing in the denied ranges;
//   - egress "allow": anything else, masqueraded behind the node; "deny": nothing;
//   - nothing from outside opens a connection into a project network (published ports are the
//     agent's own proxies, which connect from the host);
//   - a tap sends only its VM's MAC and IPv4 address, and no IPv6;
//   - a project's tunnel (VXLAN) takes packets only from its peers' underlay addresses, brings in
//     only the project's remote VMs' frames, and carries nothing to, from or about a gateway.

#include <string>

#include "agent/network/network_plan.h"

namespace berth::agent {

std::string renderRuleset(const NodeNetworkPlan& plan);
std::string removeRuleset();

}  // namespace berth::agent
