#pragma once
// What a node needs to join a project's overlay (docs/networking.md "Across nodes"): the
// project's VXLAN network identifier and the other nodes that run its VMs, each with its
// underlay address and those VMs. Read inside the assignment's transaction.

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "model/node_protocol.h"
#include "store/store.h"

namespace berth::controlplane {

// The VNI of the project whose subnet is `subnet`: the number of the subnet's first /24 block
// (its address shifted right by 8), 0 (no overlay) for a subnet smaller than a /24.
//
// Derived rather than stored: subnets never overlap (the allocator avoids every stored one, in
// the creating transaction) and never change while their project lives, so two projects never
// share a /24 block and the block's number is unique and stable; it has 24 bits, the size of a
// VNI. This needs no migration and no second allocator to keep in step with the first.
int64_t overlayVni(const std::string& subnet);

// The nodes other than `node` that run VMs of `project` and have an underlay address (a valid
// IPv4; another address, e.g. from an agent before overlays, makes no peer), sorted by node,
// each with the project's VMs it runs that have an address. Empty when `node` itself has no
// underlay address: it cannot join, so no peer would list it either.
Result<std::vector<model::NetworkPeer>> overlayPeers(store::Tx& tx, const std::string& project,
                                                     const std::string& node);

}  // namespace berth::controlplane
