#include "agent/app_bundle.h"

#include "image/ext4_build.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "common/crypto.h"
#include "os/file_util.h"
#include "os/temp_dir.h"

namespace berth::agent {
namespace {

constexpr std::uint64_t kMaxBundleEntries = 200'000;

// Entry names are joined under the extraction root (so extraction needs no chdir in a threaded
// daemon); an absolute name or a `..` component would leave it.
Status checkRelative(const std::string& name) {
  if (name.empty() || name[0] == '/') return invalidArgument("app bundle entry '" + name + "' has an absolute path");
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    if (name.compare(start, end - start, "..") == 0) {
      return invalidArgument("app bundle entry '" + name + "' climbs out with '..'");
    }
    start = end + 1;
  }
  return Status::ok();
}

Status extract(const std::string& tar, const std::string& root) {
  std::unique_ptr<archive, int (*)(archive*)> in(archive_read_new(), archive_read_free);
  archive_read_support_format_tar(in.get());
  archive_read_support_filter_gzip(in.get());
  archive_read_support_filter_none(in.get());
  if (archive_read_open_filename(in.get(), tar.c_str(), 1 << 16) != ARCHIVE_OK) {
    return invalidArgument("app bundle is not a tar archive: " + std::string(archive_error_string(in.get())));
  }
  std::unique_ptr<archive, int (*)(archive*)> out(archive_write_disk_new(), archive_write_free);
  archive_write_disk_set_options(out.get(), ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                                ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                                ARCHIVE_EXTRACT_NO_OVERWRITE);
  std::uint64_t entries = 0;
  archive_entry* entry = nullptr;
  for (;;) {
    int r = archive_read_next_header(in.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK) return invalidArgument("app bundle is corrupt: " + std::string(archive_error_string(in.get())));
    if (++entries > kMaxBundleEntries) return invalidArgument("app bundle has more than 200000 entries");
    const std::string name = archive_entry_pathname(entry);
    const auto type = archive_entry_filetype(entry);
    if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
      return invalidArgument("app bundle entry '" + name + "' is not a file, directory or symlink");
    }
    BERTH_RETURN_IF_ERROR(checkRelative(name));
    if (const char* hardlink = archive_entry_hardlink(entry)) BERTH_RETURN_IF_ERROR(checkRelative(hardlink));
    archive_entry_set_perm(entry, archive_entry_perm(entry) & 0777);  // no setuid/setgid/sticky
    archive_entry_set_pathname(entry, (root + "/" + name).c_str());
    if (const char* hardlink = archive_entry_hardlink(entry)) {
      archive_entry_set_hardlink(entry, (root + "/" + hardlink).c_str());
    }
    if (archive_write_header(out.get(), entry) != ARCHIVE_OK) {
      return invalidArgument("app bundle entry '" + name + "' refused: " + archive_error_string(out.get()));
    }
    const void* block;
    size_t size;
    la_int64_t offset;
    while ((r = archive_read_data_block(in.get(), &block, &size, &offset)) == ARCHIVE_OK) {
      if (archive_write_data_block(out.get(), block, size, offset) != ARCHIVE_OK) {
        return internalError("writing '" + name + "': " + archive_error_string(out.get()));
      }
    }
    if (r != ARCHIVE_EOF) return invalidArgument("app bundle entry '" + name + "' is truncated");
    archive_write_finish_entry(out.get());
  }
  return Status::ok();
}

}  // namespace

Result<Ext4Image> ensureExt4Image(const Paths& paths, const std::string& bundle_hex) {
  const std::string ext4 = paths.imageExt4(bundle_hex);
  const std::string digest_file = ext4 + ".digest";
  if (auto digest = os::readFile(digest_file); digest.isOk() && ::access(ext4.c_str(), R_OK) == 0) {
    struct stat st{};
    ::stat(ext4.c_str(), &st);
    return Ext4Image{ext4, *digest, static_cast<std::uint64_t>(st.st_size)};
  }
  BERTH_ASSIGN_OR_RETURN(auto staging, os::TempDir::createIn(paths.imagesDir(), "unpack-"));
  const std::string root = staging.path() + "/root";
  BERTH_RETURN_IF_ERROR(os::makeDirs(root));
  BERTH_RETURN_IF_ERROR(extract(paths.imageTar(bundle_hex), root));

  const std::string tmp = ext4 + ".tmp";
  ::unlink(tmp.c_str());  // a crash's leftover
  BERTH_RETURN_IF_ERROR(image::buildExt4(root, tmp, "mkfs.ext4"));
  BERTH_ASSIGN_OR_RETURN(std::string image, os::readFile(tmp));
  const std::string digest = "sha256:" + sha256Hex(image);
  if (::rename(tmp.c_str(), ext4.c_str()) != 0) return internalError("cannot place " + ext4);
  BERTH_RETURN_IF_ERROR(os::writeFileAtomic(digest_file, digest));
  return Ext4Image{ext4, digest, image.size()};
}

}  // namespace berth::agent
