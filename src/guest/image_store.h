#pragma once
// App images inside the guest: fetched once through the VM's image port, a virtio-serial port
// the agent serves this VM alone (docs/guest-protocol.md, "Image port"; the guest reaches no host
// address over its NIC), verified against their sha256, kept on the scratch disk and
// loop-mounted read-only, shared by every app that names them. init fetches one image at a time
// (it serves run_app on its one thread), and the port carries one request at a time.

#include <cstdint>
#include <string>

#include "common/result.h"

namespace berth::guest {

// init's directory on the scratch disk: images/ (this store) and containers/ (the writable
// layers of container instances).
inline constexpr const char* kStoreDir = "/var/lib/berth";

// Returns the read-only mount point (/images/<hex>) of image `digest` ("sha256:<64 hex>"),
// fetching it from `source` ("port:<virtio port name>") into `store_dir` first if needed.
Result<std::string> ensureImage(const std::string& digest, std::uint64_t size,
                                const std::string& source, const std::string& store_dir);

}  // namespace berth::guest
