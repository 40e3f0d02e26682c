#pragma once
// Turns an unpacked image root into the read-only ext4 file system a guest mounts.

#include <string>

#include "common/result.h"

namespace berth::image {

// Writes `out` (which must not exist) as an ext4 image of the tree at `root` with `mkfs.ext4 -d`
// run as `mkfs`: owners, modes, times, symlinks, hardlinks and FIFOs as they are in the tree, the
// root directory owned by 0:0, no journal (nothing writes to it), no reserved blocks. mkfs gets
// room from the tree's size (every name a whole inode and its bytes in whole 4 KiB blocks, plus a
// tenth and 16 MiB for metadata); `resize2fs -M` then shrinks it to what it holds. It is fsynced
// and left mode 0444. On failure `out` may be left behind: it is
// meant to be built in a directory the caller discards.
Status buildExt4(const std::string& root, const std::string& out, const std::string& mkfs);

}  // namespace berth::image
