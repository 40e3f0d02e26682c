#include "image/ext4_build.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "os/run_command.h"
#include "os/file_util.h"
#include "os/unique_fd.h"

namespace berth::image {
namespace {

constexpr std::uint64_t kBlock = 4096;
constexpr std::uint64_t kInodeSize = 256;

struct TreeSize {
  std::uint64_t inodes = 1;  // the root
  std::uint64_t blocks = 1;
};

// A hardlinked file is counted once per name, a sparse file by its length: both overestimate,
// which costs only unused (sparse) space in the image file.
Result<TreeSize> measure(const std::string& root) {
  namespace fs = std::filesystem;
  TreeSize size;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) {
      return internalError("cannot stat '" + it->path().string() + "': " + os::errnoMessage(errno));
    }
    size.inodes += 1;
    size.blocks += (static_cast<std::uint64_t>(st.st_size) + kBlock - 1) / kBlock;
  }
  if (ec) return internalError("cannot walk '" + root + "': " + ec.message());
  return size;
}

}  // namespace

Status buildExt4(const std::string& root, const std::string& out, const std::string& mkfs) {
  BERTH_ASSIGN_OR_RETURN(TreeSize tree, measure(root));
  const std::uint64_t inodes = tree.inodes + 64;  // and ext4's own reserved inodes
  const std::uint64_t bytes =
      tree.blocks * kBlock + tree.blocks * kBlock / 10 + inodes * kInodeSize + (16u << 20);
  const std::uint64_t mib = (bytes + (1u << 20) - 1) >> 20;
  BERTH_RETURN_IF_ERROR(os::runCommand({mkfs,
                                    "-q",
                                    "-F",
                                    "-b",
                                    std::to_string(kBlock),
                                    "-I",
                                    std::to_string(kInodeSize),
                                    "-N",
                                    std::to_string(inodes),
                                    "-m",
                                    "0",
                                    "-O",
                                    "^has_journal",
                                    "-E",
                                    "root_owner=0:0",
                                    "-L",
                                    "berth-image",
                                    "-d",
                                    root,
                                    out,
                                    std::to_string(mib) + "M"})
                            .withContext("cannot build the ext4 image"));
  // The slack above is for mkfs; the image is mounted read-only, and every guest fetches all of
  // it, so it is shrunk to what it holds (a 2 MB tree: 20 MB before, 2.1 MB after).
  const auto slash = mkfs.rfind('/');
  const std::string resize = slash == std::string::npos ? "resize2fs" : mkfs.substr(0, slash + 1) + "resize2fs";
  BERTH_RETURN_IF_ERROR(os::runCommand({resize, "-M", out}).withContext("cannot shrink the ext4 image"));
  os::UniqueFd fd(::open(out.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd || ::fsync(fd.get()) != 0 || ::fchmod(fd.get(), 0444) != 0) {
    return internalError("cannot sync '" + out + "': " + os::errnoMessage(errno));
  }
  return Status::ok();
}

}  // namespace berth::image
