#pragma once
// Applies image layers (tar streams, plain, gzip or zstd) one after another into a root
// directory, as an overlay stack would show them (image-spec "layer.md"). Layers come from
// tenants, so libarchive only reads; every write is ours, through descriptors resolved beneath
// the root (beneath.h). The rules:
//   - an absolute name or a ".." component is an error naming the entry;
//   - a symlink is stored as it is, wherever it points, but nothing is ever created, written or
//     removed through a symlink that leaves the root: such an entry is an error;
//   - a hardlink's target must resolve beneath the root, and exist;
//   - character and block devices are an error (tenants get no device nodes); FIFOs are created
//     (harmless without a reader, and ext4 stores them); sockets and other types are an error;
//   - setuid and setgid bits are cleared; other mode bits, and uid/gid when running as root, are
//     kept as recorded; extended attributes (file capabilities among them) are not restored;
//   - whiteouts: ".wh.NAME" removes NAME, ".wh..wh..opq" empties its directory, each only of what
//     lower layers put there;
//   - caps (UnpackLimits): entries and bytes over all layers, expansion ratio per layer; going over
//     is a ResourceExhausted error naming the cap and the entry.
// A failed apply leaves the root half-written: the caller discards it (image_import.h does).

#include <cstdint>
#include <string>
#include <unordered_set>

#include "image/blob_reader.h"
#include "common/result.h"
#include "os/unique_fd.h"

namespace berth::image {

struct UnpackLimits {
  std::uint64_t max_entries = 200'000;   // tar entries over all layers
  std::uint64_t max_bytes = 8ull << 30;  // file data written over all layers
  std::uint64_t max_ratio = 100;         // a layer's tar bytes per compressed byte...
  std::uint64_t ratio_grace = 1 << 20;   // ...checked once a layer has expanded past this
};

// One image's unpacking. Not thread-safe; movable.
class LayerUnpacker {
 public:
  // `root` must be an existing directory, normally empty.
  static Result<LayerUnpacker> create(const std::string& root, const UnpackLimits& limits);

  // Applies the layer `blob` reads (and only reads: the caller verifies it with blob.finish()).
  // Errors name the entry; a layer that is no tar or is truncated is InvalidArgument.
  Status apply(BlobReader& blob);

  std::uint64_t bytes() const { return bytes_; }

 private:
  LayerUnpacker(os::UniqueFd root, const UnpackLimits& limits);
  struct Entry;

  Status applyEntry(Entry& e);
  Status applyWhiteout(const Entry& e);
  Status pruneLowerLayers(int dir_fd, const std::string& prefix);
  Status writeDirectory(int parent, const Entry& e);
  Status writeFile(int parent, Entry& e);
  Status writeSymlink(int parent, const Entry& e);
  Status writeHardlink(int parent, const Entry& e);
  Status writeFifo(int parent, const Entry& e);
  Status setAttributes(int parent, const Entry& e) const;
  Status checkRatio(const Entry& e) const;

  os::UniqueFd root_;
  UnpackLimits limits_;
  bool keep_owners_;
  std::uint64_t entries_ = 0;
  std::uint64_t bytes_ = 0;
  // Paths this layer has put (and their ancestors): whiteouts and opaque directories spare them.
  std::unordered_set<std::string> layer_paths_;
};

}  // namespace berth::image
