// Fuzzes layer unpacking the way an import meets a tenant's layer: arbitrary bytes (tar, gzip or
// zstd, or garbage) applied into a fresh root by LayerUnpacker. Whatever the outcome, nothing
// may appear outside the root: a sibling canary directory must stay empty.
//
// Input: the layer's bytes. Each run works in a fresh directory under $TMPDIR.

#include <dirent.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "image/blob_reader.h"
#include "image/layer_unpack.h"
#include "common/crypto.h"
#include "os/file_util.h"
#include "os/temp_dir.h"

namespace {

bool isEmptyDir(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (!d) return false;
  int entries = 0;
  while (const dirent* e = ::readdir(d)) {
    if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") ++entries;
  }
  ::closedir(d);
  return entries == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto dir = berth::os::TempDir::create("berth-layer-fuzz-");
  if (!dir.isOk()) return 0;
  const std::string base = dir->path();
  const std::string root = base + "/root", canary = base + "/canary", blob = base + "/layer";
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  if (!berth::os::makeDirs(root).isOk() || !berth::os::makeDirs(canary).isOk() ||
      !berth::os::writeFileAtomic(blob, bytes, 0600).isOk()) {
    return 0;
  }
  berth::image::UnpackLimits limits;
  limits.max_entries = 2000;
  limits.max_bytes = 64 << 20;
  auto unpacker = berth::image::LayerUnpacker::create(root, limits);
  auto reader = berth::image::BlobReader::open(blob, {"", "sha256:" + berth::sha256Hex(bytes), size});
  if (unpacker.isOk() && reader.isOk()) {
    (void)unpacker->apply(*reader);
  }
  if (!isEmptyDir(canary)) {
    std::fputs("layer_fuzz: a layer wrote outside the root\n", stderr);
    std::abort();
  }
  return 0;
}
