#pragma once
// A process app's files arrive as a tar bundle (what `berth deploy --dir` uploads). The agent
// unpacks it once — with libarchive's secure extraction: no absolute paths, no `..`, nothing
// through symlinks, no device nodes — and converts it into a read-only ext4 image with
// `mkfs.ext4 -d`, which the guest loop-mounts. Both files are cached by the bundle's digest.

#include <cstdint>
#include <string>

#include "agent/paths.h"
#include "common/result.h"

namespace berth::agent {

struct Ext4Image {
  std::string path;
  std::string digest;  // "sha256:<hex>" of the ext4 file itself, which the guest verifies
  std::uint64_t size = 0;
};

// Converts images/<bundle_hex>.tar (which must exist) into images/<bundle_hex>.ext4, or returns
// the cached result.
Result<Ext4Image> ensureExt4Image(const Paths& paths, const std::string& bundle_hex);

}  // namespace berth::agent
