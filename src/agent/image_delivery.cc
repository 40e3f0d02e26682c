#include "agent/image_delivery.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent/app_bundle.h"
#include "agent/image_port.h"
#include "common/crypto.h"
#include "os/file_util.h"

namespace berth::agent {
namespace {

constexpr std::uint64_t kMaxBundleBytes = 1ull << 30;
constexpr std::uint64_t kMaxRootfsBytes = 4ull << 30;

}  // namespace

ImageDelivery::ImageDelivery(client::ApiClient& api, Paths paths) : api_(api), paths_(std::move(paths)) {}

std::shared_ptr<std::mutex> ImageDelivery::lockFor(const std::string& digest) {
  std::lock_guard lock(locks_mu_);
  auto& mu = locks_[digest];
  if (!mu) mu = std::make_shared<std::mutex>();
  return mu;
}

Result<OfferedImage> ImageDelivery::offerBundle(const VmKey& vm, const std::string& bundle_digest) {
  if (!isSha256Digest(bundle_digest)) {
    return invalidArgument("image '" + bundle_digest + "' is not an uploaded bundle digest (OCI images come later)");
  }
  const std::string hex = bundle_digest.substr(7);
  Ext4Image ext4;
  {
    auto mu = lockFor(bundle_digest);
    std::lock_guard lock(*mu);
    BERTH_RETURN_IF_ERROR(fetchBlob(bundle_digest, paths_.imageTar(hex), kMaxBundleBytes, 0600));
    BERTH_ASSIGN_OR_RETURN(ext4, ensureExt4Image(paths_, hex));
  }
  BERTH_RETURN_IF_ERROR(offer(vm, ext4.path, ext4.digest));
  return OfferedImage{ext4.digest, ext4.size, kImagePortSource};
}

Result<OfferedImage> ImageDelivery::offerRootfs(const VmKey& vm, const model::ContainerImage& image) {
  const std::string& rootfs = image.rootfs_digest;
  const std::string path = paths_.rootfs(rootfs.substr(7));
  {
    auto mu = lockFor(rootfs);
    std::lock_guard lock(*mu);
    BERTH_RETURN_IF_ERROR(fetchBlob(rootfs, path, kMaxRootfsBytes, 0444));
  }
  BERTH_RETURN_IF_ERROR(offer(vm, path, rootfs));
  return OfferedImage{rootfs, static_cast<std::uint64_t>(image.rootfs_size), kImagePortSource};
}

// Blobs are content-addressed: a file already at `path` is the blob, and one fetched is kept
// only if its bytes hash to `digest`.
Status ImageDelivery::fetchBlob(const std::string& digest, const std::string& path, std::uint64_t max_bytes,
                                mode_t mode) {
  if (::access(path.c_str(), R_OK) == 0) return Status::ok();
  BERTH_ASSIGN_OR_RETURN(std::string bytes, api_.download("/v1/blobs/" + digest, max_bytes));
  if ("sha256:" + sha256Hex(bytes) != digest) return internalError("blob " + digest + " arrived corrupt");
  return os::writeFileAtomic(path, bytes, mode);
}

// The VM's image port serves only what is linked into its images directory, by hex digest.
Status ImageDelivery::offer(const VmKey& vm, const std::string& path, const std::string& digest) {
  const std::string link = paths_.vm(vm.project, vm.name).imagesDir() + "/" + digest.substr(7);
  if (::access(link.c_str(), R_OK) != 0 && ::link(path.c_str(), link.c_str()) != 0) {
    return internalError("cannot offer the image to the VM: " + std::string(std::strerror(errno)));
  }
  return Status::ok();
}

}  // namespace berth::agent
