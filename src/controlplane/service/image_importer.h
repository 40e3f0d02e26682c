#pragma once
// The seam between the control plane and the image machinery (src/image/): importing turns a
// source into a read-only root file system kept by berthd under its digest. berthd's
// implementation runs the real import (skopeo, libarchive, mkfs.ext4); unit tests give a fake.

#include <cstdint>
#include <functional>
#include <string>

#include "common/result.h"

namespace berth::controlplane {

// Where an import is: phase "fetch", "verify", "unpack" (layer of layers, compressed bytes
// applied of total), "convert", or "done".
struct ImportStep {
  std::string phase;
  std::size_t layer = 0, layers = 0;
  std::uint64_t bytes = 0, total_bytes = 0;
};

struct ImportResult {
  std::string digest;         // the manifest's
  std::string config_json;    // {"entrypoint","cmd","env","working_dir","user","exposed_ports"}
  std::string rootfs_digest;  // of the ext4; served at GET /v1/blobs/{rootfs_digest}
  std::int64_t rootfs_size = 0;
  bool cached = false;  // the conversion was already done: no work
};

class ImageImporter {
 public:
  virtual ~ImageImporter() = default;
  // `source`: a path to an OCI layout directory or an OCI/docker archive, or "docker://REF".
  // Errors name what was wrong (the layer entry, the cap, the blob).
  virtual Result<ImportResult> import(const std::string& source,
                                      const std::function<void(const ImportStep&)>& progress) = 0;
};

}  // namespace berth::controlplane
