#pragma once
// A layer's diff_id: the sha256 of its uncompressed tar, which the image config lists for each
// layer (rootfs.diff_ids). The blob's own digest covers the compressed bytes; this checks that
// they decompress to what the image's author built.

#include <string>

#include "common/result.h"

namespace berth::image {

// The "sha256:<hex>" of the blob at `path` once decompressed (gzip, zstd, or none). A blob that
// does not decompress is an InvalidArgument.
Result<std::string> uncompressedDigest(const std::string& path);

}  // namespace berth::image
