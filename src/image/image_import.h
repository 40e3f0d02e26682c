#pragma once
// Importing an OCI image into the image cache (docs/architecture.md, "A deploy, step by step"):
//   fetch    the source becomes an OCI layout directory (image_source.h: skopeo for archives and
//            registries);
//   verify   index → manifest → config, each checked against its digest (oci_layout.h);
//   unpack   the layers, base first, into a fresh root, each verified as it is read and applied
//            under the rules of layer_unpack.h;
//   convert  the root becomes one read-only ext4 (ext4_build.h), cached with a JSON record by the
//            manifest digest under ImageCache::entry().
// The cache key is the digest of the manifest in the layout that is read, so a source skopeo
// converts is keyed by the converted manifest, and is converted again (the digest is only known
// from the layout) before a second import finds it cached; a layout directory is only read.
// Atomic: everything is built in a staging directory (ImageCache: .import-XXXXXX) that is
// removed on every return, and an entry appears in the cache whole, by one rename, or not at all.
// Thread-safe as long as `progress` is: concurrent imports of the same image both succeed, and
// the first to finish provides the entry.

#include <cstdint>
#include <functional>
#include <string>

#include "image/layer_unpack.h"
#include "image/oci_layout.h"
#include "image/image_cache.h"
#include "common/result.h"

namespace berth::image {

struct ImportOptions {
  UnpackLimits limits;
  std::string skopeo = "skopeo";
  std::string mkfs = "mkfs.ext4";
};

struct ImportProgress {
  enum class Phase { kFetch, kVerify, kUnpack, kConvert, kDone };
  Phase phase = Phase::kFetch;
  std::size_t layer = 0;    // kUnpack: the layer about to be applied, from 1
  std::size_t layers = 0;   // from kUnpack on: how many layers the image has
  std::uint64_t bytes = 0;  // kUnpack: compressed bytes applied so far; kDone: the ext4's size
  std::uint64_t total_bytes = 0;  // kUnpack: compressed bytes of all layers
};
// Called on the importing thread at the start of each phase and of each layer.
using ImportProgressFn = std::function<void(const ImportProgress&)>;

// What the cache keeps of an image (its image.json).
struct ImageRecord {
  std::string manifest_digest;
  std::string config_digest;
  ImageConfig config;
  std::string ext4_digest;  // "sha256:<hex>" of the ext4 file, which a guest can verify
  std::uint64_t ext4_size = 0;
  std::uint64_t unpacked_bytes = 0;
};

struct ImportedImage {
  ImageRecord record;
  std::string ext4_path;
  bool cached = false;  // true when the entry existed before this call
};

// Imports `source`: an OCI layout directory, an OCI or docker archive file, or "docker://REF".
// Errors keep the code of the step that failed (InvalidArgument for a bad image, ResourceExhausted
// for a cap, Internal for the host) with "cannot import image '<source>': " in front.
Result<ImportedImage> importImage(const ImageCache& cache, const std::string& source,
                                  const ImportOptions& options = {},
                                  const ImportProgressFn& progress = {});

// Removes the staging directories (.import-*) an import left when its process died; called at
// start, before any import runs.
Status removeStaleImports(const ImageCache& cache);

// The cache entry for `manifest_hex` (the hex of a sha256 digest), with cached = true. NotFound
// when there is none; InvalidArgument for a malformed hex; Internal for a damaged entry.
Result<ImportedImage> findCachedImage(const ImageCache& cache, const std::string& manifest_hex);

}  // namespace berth::image
