#pragma once
// Allocating a project's subnet and its VMs' addresses inside the caller's write transaction,
// where the store serializes writers and its UNIQUE indexes refuse a collision: the choice
// (network_allocator.h) and its write happen together, so concurrent creates never share one.

#include <string>
#include <vector>

#include "common/result.h"
#include "controlplane/service/network_allocator.h"
#include "controlplane/service/service_context.h"
#include "store/store.h"

namespace berth::controlplane {

// The lowest free subnet of `pool` for a new project.
Result<std::string> newProjectSubnet(store::Tx& tx, const NetworkPool& pool);

// Gives `project` a subnet if it has none (a project made before networks), writing it; true
// when it did. `project.version` follows the write.
Result<bool> ensureProjectSubnet(store::Tx& tx, const NetworkPool& pool, store::Project& project, int64_t now);

// The lowest free address in `project`'s subnet for a new VM; the project must have a subnet.
Result<std::string> newVmAddress(store::Tx& tx, const store::Project& project);

// The address of a new VM of `project` (every way a VM is made: created, or added for an app's
// replicas), giving the project its subnet first if it has none, with the `project.network`
// event that records it.
Result<std::string> addressForNewVm(store::Tx& tx, const ServiceContext& ctx, const Principal& who,
                                    store::Project& project, int64_t now);

// Gives every VM of `project` without an address one (VMs made before networks); the names of
// those that got one.
Result<std::vector<std::string>> addressUnaddressedVms(store::Tx& tx, const store::Project& project, int64_t now);

}  // namespace berth::controlplane
