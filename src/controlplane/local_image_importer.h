#pragma once
// berthd's ImageImporter: the import pipeline of src/image/ run on the control plane's host,
// so an image is converted once for the whole fleet. The cache is <data>/images/oci (the
// layout of image/image_cache.h); each root file system is also offered in the blob directory under
// its own digest, where node agents fetch it (GET /v1/blobs/{digest}).

#include <string>

#include "controlplane/service/image_importer.h"
#include "image/image_cache.h"

namespace berth::controlplane {

class LocalImageImporter final : public ImageImporter {
 public:
  // Removes what imports cut short by a crash left behind (nothing imports yet).
  LocalImageImporter(std::string cache_dir, std::string blob_dir);

  Result<ImportResult> import(const std::string& source,
                              const std::function<void(const ImportStep&)>& progress) override;

 private:
  const image::ImageCache cache_;
  const std::string blob_dir_;
};

}  // namespace berth::controlplane
