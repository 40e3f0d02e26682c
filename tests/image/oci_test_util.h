#pragma once
// Builds image layers and OCI layouts for the image tests with libarchive's writer: no network,
// no docker.

#include <archive_entry.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "image/blob_reader.h"
#include "os/temp_dir.h"

namespace berth::image::oci_test {

struct TarEntry {
  std::string name;
  unsigned type = AE_IFREG;  // or AE_IFDIR, AE_IFLNK, AE_IFCHR, AE_IFBLK, AE_IFIFO
  std::string data;          // a file's contents, a symlink's target
  std::string hardlink;      // non-empty: a hardlink to this name
  mode_t perm = 0644;
  int uid = 0;
  int gid = 0;
};

TarEntry file(std::string name, std::string data, mode_t perm = 0644);
TarEntry dir(std::string name, mode_t perm = 0755);
TarEntry symlink(std::string name, std::string target);
TarEntry hardlink(std::string name, std::string target);
TarEntry node(std::string name, unsigned type);  // a device (1:3) or a FIFO

enum class Compression { kNone, kGzip, kZstd };
// A pax tar of `entries`, in order.
std::string makeTar(const std::vector<TarEntry>& entries,
                    Compression compression = Compression::kGzip);

void writeFile(const std::string& path, const std::string& data);

using Layer = std::vector<TarEntry>;

// An OCI image layout at `dir` with `layers` (base first) as gzip tars, whose diff_ids the config
// lists (or `diff_ids`, when given), and `config` as the config's "config" object; returns the
// manifest's descriptor.
Descriptor writeOciLayout(const std::string& dir, const std::vector<Layer>& layers,
                          const nlohmann::json& config, const std::vector<std::string>& diff_ids = {});

// Adds a blob to the layout at `dir` and describes it.
Descriptor addBlob(const std::string& dir, const std::string& media_type, const std::string& bytes);

// A fixture with a fresh temporary directory for each test, removed after it.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::create("berth-image-test-");
    ASSERT_TRUE(dir.isOk());
    tmp_ = std::move(*dir);
  }
  std::string tmp() const { return tmp_->path(); }

 private:
  std::optional<os::TempDir> tmp_;
};

}  // namespace berth::image::oci_test
