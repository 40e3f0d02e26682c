#pragma once
// How an app's files reach a VM: its blob is fetched from berthd once per node (by digest, kept
// only if its bytes hash to it), a process app's bundle is converted to ext4 (app_bundle.h), and
// the image is hard-linked into the VM's images directory, the only one its image port serves
// (image_port.h; docs/vms.md, "How an app's files reach a running VM").
//
// Thread-safe: supervisors of different VMs deliver at once; two wanting the same blob fetch
// and convert it once.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "agent/paths.h"
#include "agent/vm_key.h"
#include "client/api_client.h"
#include "common/result.h"
#include "model/node_protocol.h"

namespace berth::agent {

// An image the VM may fetch through its image port: what run_app names.
struct OfferedImage {
  std::string digest;  // "sha256:<hex>" of the file the guest fetches and verifies
  std::uint64_t size = 0;
  std::string source;  // where the guest fetches it from: kImagePortSource, its VM's image port
};

class ImageDelivery {
 public:
  // `api` must outlive this and be usable from several threads at once.
  ImageDelivery(client::ApiClient& api, Paths paths);

  // A process app's uploaded bundle ("sha256:<hex>"), as a read-only ext4 image.
  Result<OfferedImage> offerBundle(const VmKey& vm, const std::string& bundle_digest);
  // A container app's root file system.
  Result<OfferedImage> offerRootfs(const VmKey& vm, const model::ContainerImage& image);

 private:
  Status fetchBlob(const std::string& digest, const std::string& path, std::uint64_t max_bytes, mode_t mode);
  Status offer(const VmKey& vm, const std::string& path, const std::string& digest);
  // Held while a digest's files are fetched or converted (they have fixed temporary names).
  std::shared_ptr<std::mutex> lockFor(const std::string& digest);

  client::ApiClient& api_;
  Paths paths_;
  std::mutex locks_mu_;
  std::map<std::string, std::shared_ptr<std::mutex>> locks_;  // by digest; one per image the node has
};

}  // namespace berth::agent
