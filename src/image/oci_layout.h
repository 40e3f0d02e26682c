#pragma once
// Reading an OCI image layout directory (image-spec "image-layout.md"): index.json names the
// image manifest, which names the config blob and the layers. The directory is untrusted input:
// every digest is validated before it becomes a path, every JSON blob is size-capped and verified
// against its descriptor, and malformed JSON is an InvalidArgument error, never an exception.
// The layers themselves are only described here; they are verified while they are unpacked
// (BlobReader).

#include <cstdint>
#include <string>
#include <vector>

#include "image/blob_reader.h"
#include "common/result.h"

namespace berth::image {

// What the image asks to run: the "config" object of its config blob (image-spec "config.md").
struct ImageConfig {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;  // "NAME=value"
  std::string working_dir;
  std::string user;                        // "uid[:gid]" or a name, as the image gives it
  std::vector<std::string> exposed_ports;  // "80/tcp", sorted
};

struct OciImage {
  std::string layout_dir;
  Descriptor manifest;
  Descriptor config_blob;
  ImageConfig config;
  std::vector<Descriptor> layers;  // base layer first
  // The config's rootfs.diff_ids: each layer's uncompressed digest (empty if the config has none).
  std::vector<std::string> diff_ids;

  // Where a blob of this layout lives; only for the descriptors above, whose digests are valid.
  std::string blobPath(const Descriptor& blob) const;
};

// Reads the image in the layout at `dir`. An index (index.json, or an image index it points to,
// one level deep) that lists several manifests must list exactly one for linux/amd64, which is
// taken; a config that names another os or architecture is refused. Errors: NotFound when `dir`
// has no index.json, InvalidArgument for anything malformed, unsupported or corrupt.
Result<OciImage> readOciLayout(const std::string& dir);

}  // namespace berth::image
