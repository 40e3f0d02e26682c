#pragma once
// berthd's ImageImporter: the import pipeline of agent/image/ run on the control plane's host,
// so an image is converted once for the whole fleet. The cache lives in <data>/images (the
// layout of agent/paths.h); each root file system is also offered in the blob directory under
// its own digest, where node agents fetch it (GET /v1/blobs/{digest}).

#include <string>

#include "controlplane/service/image_importer.h"

namespace berth::controlplane {

class LocalImageImporter final : public ImageImporter {
 public:
  // Removes what imports cut short by a crash left behind (nothing imports yet).
  LocalImageImporter(std::string data_dir, std::string blob_dir);

  Result<ImportResult> import(const std::string& source,
                              const std::function<void(const ImportStep&)>& progress) override;

 private:
  const std::string data_dir_;
  const std::string blob_dir_;
};

}  // namespace berth::controlplane
