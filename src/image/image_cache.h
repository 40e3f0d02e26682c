#pragma once
// The on-disk layout of the image cache, drawn once:
//
//   <dir>/                       berthd: <data>/images/oci
//     <manifest-sha256>/         one imported image, whole
//       image.ext4               its root file system, read-only
//       image.json               manifest and config digests, config, ext4 digest and size
//     .import-XXXXXX/            an import in progress (skopeo's layout, the unpacked root);
//                                one left by a crash is garbage

#include <string>

namespace berth::image {

class ImageCache {
 public:
  explicit ImageCache(std::string dir) : dir_(std::move(dir)) {}

  const std::string& dir() const { return dir_; }

  // The files of one entry; `dir` is also used for an entry being built.
  struct Entry {
    std::string dir;
    std::string ext4() const { return dir + "/image.ext4"; }
    std::string record() const { return dir + "/image.json"; }
  };
  Entry entry(const std::string& manifest_hex) const { return Entry{dir_ + "/" + manifest_hex}; }

 private:
  std::string dir_;
};

}  // namespace berth::image
