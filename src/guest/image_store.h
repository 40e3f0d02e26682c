#pragma once
// App images inside the guest: fetched once over the VM's NIC from the per-VM relay the agent
// exposes (bulk data takes the network path: docs/vms.md), verified against their sha256,
// kept on the scratch disk and loop-mounted read-only, shared by every app that names them.

#include <cstdint>
#include <string>

#include "common/result.h"

namespace berth::guest {

// init's directory on the scratch disk: images/ (this store) and containers/ (the writable
// layers of container instances).
inline constexpr const char* kStoreDir = "/var/lib/berth";

// Returns the read-only mount point (/images/<hex>) of image `digest` ("sha256:<64 hex>"),
// fetching it from `source` ("ip:port") into `store_dir` first if needed.
Result<std::string> ensureImage(const std::string& digest, std::uint64_t size,
                                const std::string& source, const std::string& store_dir);

}  // namespace berth::guest
