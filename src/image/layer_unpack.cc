#include "image/layer_unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "image/beneath.h"
#include "os/file_util.h"

namespace berth::image {
namespace {

constexpr std::size_t kReadChunk = 1 << 16;
constexpr std::string_view kWhiteout = ".wh.";
constexpr std::string_view kOpaque = ".wh..wh..opq";
constexpr la_int64_t kMaxId = 0xFFFFFFFE;  // (uid_t)-1 means "unchanged" to chown

// Feeds libarchive from a BlobReader; a read error keeps its Status for the message.
struct ReadContext {
  BlobReader* blob;
  std::string buf;
  Status status;
};

la_ssize_t readCallback(archive* a, void* opaque, const void** out) {
  auto* ctx = static_cast<ReadContext*>(opaque);
  auto n = ctx->blob->read(ctx->buf.data(), ctx->buf.size());
  if (!n.isOk()) {
    ctx->status = n.status();
    archive_set_error(a, EIO, "%s", n.status().message().c_str());
    return -1;
  }
  *out = ctx->buf.data();
  return static_cast<la_ssize_t>(*n);
}

Status readError(archive* in, const ReadContext& ctx, const std::string& what) {
  if (!ctx.status.isOk()) return ctx.status;
  const char* message = archive_error_string(in);
  return invalidArgument(what + ": " + (message ? message : "unknown error"));
}

Status errnoError(const std::string& what) {
  return internalError(what + ": " + os::errnoMessage(errno));
}

Status pwriteAll(int fd, const char* data, std::size_t size, off_t offset) {
  while (size > 0) {
    const ssize_t n = ::pwrite(fd, data, size, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errnoError("write");
    data += n;
    size -= static_cast<std::size_t>(n);
    offset += n;
  }
  return Status::ok();
}

}  // namespace

struct LayerUnpacker::Entry {
  Entry(archive* archive_in, archive_entry* entry, const ReadContext* context)
      : in(archive_in), raw(entry), ctx(context) {
    if (const char* pathname = archive_entry_pathname(entry)) name = pathname;
  }

  archive* in;
  archive_entry* raw;
  const ReadContext* ctx;
  std::string name;                 // as the layer records it, for messages
  std::vector<std::string> parent;  // the directory it goes into
  std::string base;                 // its own name there
  std::string path;                 // parent + base, the key of layer_paths_
};

LayerUnpacker::LayerUnpacker(os::UniqueFd root, const UnpackLimits& limits)
    : root_(std::move(root)), limits_(limits), keep_owners_(::geteuid() == 0) {}

Result<LayerUnpacker> LayerUnpacker::create(const std::string& root, const UnpackLimits& limits) {
  os::UniqueFd fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    return internalError("cannot open the unpack root '" + root + "': " + os::errnoMessage(errno));
  }
  return LayerUnpacker(std::move(fd), limits);
}

Status LayerUnpacker::apply(BlobReader& blob) {
  std::unique_ptr<archive, int (*)(archive*)> in(archive_read_new(), archive_read_free);
  archive_read_support_format_tar(in.get());
  archive_read_support_filter_none(in.get());
  // Only built-in decompressors: without its library libarchive would exec an external program.
  if (archive_zlib_version() != nullptr) archive_read_support_filter_gzip(in.get());
  if (archive_libzstd_version() != nullptr) archive_read_support_filter_zstd(in.get());
  ReadContext ctx{&blob, std::string(kReadChunk, '\0'), Status::ok()};
  if (archive_read_open(in.get(), &ctx, nullptr, readCallback, nullptr) != ARCHIVE_OK) {
    return readError(in.get(), ctx, "the layer is not a tar stream");
  }
  layer_paths_.clear();
  std::string last = "(none)";
  for (;;) {
    archive_entry* raw = nullptr;
    const int r = archive_read_next_header(in.get(), &raw);
    if (r == ARCHIVE_EOF) return Status::ok();
    if (r < ARCHIVE_WARN) {
      return readError(in.get(), ctx, "the layer is corrupt after entry '" + last + "'");
    }
    Entry e(in.get(), raw, &ctx);
    last = e.name;
    if (Status s = applyEntry(e); !s.isOk()) return s.withContext("entry '" + e.name + "'");
  }
}

Status LayerUnpacker::applyEntry(Entry& e) {
  if (++entries_ > limits_.max_entries) {
    return resourceExhausted("the image has more than " + std::to_string(limits_.max_entries) +
                             " entries (entry cap)");
  }
  BERTH_RETURN_IF_ERROR(checkRatio(e));
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> parts, splitEntryPath(e.name));
  if (parts.empty()) return Status::ok();  // the root itself: it keeps the mode we gave it
  e.base = parts.back();
  parts.pop_back();
  e.parent = std::move(parts);
  for (const auto& part : e.parent) {
    e.path += (e.path.empty() ? "" : "/") + part;
    layer_paths_.insert(e.path);
  }
  e.path += (e.path.empty() ? "" : "/") + e.base;
  if (e.base.starts_with(kWhiteout)) return applyWhiteout(e);
  layer_paths_.insert(e.path);

  const auto type = archive_entry_filetype(e.raw);
  if (type == AE_IFCHR || type == AE_IFBLK) {
    return invalidArgument(std::string(type == AE_IFCHR ? "a character" : "a block") +
                           " device node; images may not contain device nodes");
  }
  BERTH_ASSIGN_OR_RETURN(os::UniqueFd parent, makeDirsBeneath(root_.get(), e.parent));
  if (archive_entry_hardlink(e.raw) != nullptr) return writeHardlink(parent.get(), e);
  switch (type) {
    case AE_IFDIR:
      return writeDirectory(parent.get(), e);
    case AE_IFREG:
      return writeFile(parent.get(), e);
    case AE_IFLNK:
      return writeSymlink(parent.get(), e);
    case AE_IFIFO:
      return writeFifo(parent.get(), e);
    default:
      return invalidArgument("unsupported entry type (a socket?)");
  }
}

Status LayerUnpacker::applyWhiteout(const Entry& e) {
  auto parent = openBeneath(root_.get(), e.parent, O_PATH | O_DIRECTORY);
  if (!parent.isOk()) {
    return parent.status().code() == StatusCode::kNotFound ? Status::ok() : parent.status();
  }
  if (e.base == kOpaque) {
    return pruneLowerLayers(parent->get(), e.parent.empty() ? "" : joinPath(e.parent));
  }
  // Other ".wh..wh." names are AUFS bookkeeping, not whiteouts.
  if (e.base.starts_with(".wh..wh.")) return Status::ok();
  const std::string target = e.base.substr(kWhiteout.size());
  if (target.empty() || target == "." || target == "..") {
    return invalidArgument("a whiteout that names no file");
  }
  const std::string path = e.parent.empty() ? target : joinPath(e.parent) + "/" + target;
  if (layer_paths_.contains(path)) return Status::ok();  // whiteouts hide lower layers only
  return removeAt(parent->get(), target);
}

Status LayerUnpacker::pruneLowerLayers(int dir_fd, const std::string& prefix) {
  BERTH_ASSIGN_OR_RETURN(auto names, listDir(dir_fd));
  for (const auto& name : names) {
    const std::string path = prefix.empty() ? name : prefix + "/" + name;
    if (!layer_paths_.contains(path)) {
      BERTH_RETURN_IF_ERROR(removeAt(dir_fd, name));
      continue;
    }
    struct stat st {};
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) {
      continue;
    }
    os::UniqueFd sub(::openat(dir_fd, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub) return errnoError("cannot open '" + path + "'");
    BERTH_RETURN_IF_ERROR(pruneLowerLayers(sub.get(), path));
  }
  return Status::ok();
}

Status LayerUnpacker::setAttributes(int parent, const Entry& e) const {
  const la_int64_t uid = archive_entry_uid(e.raw), gid = archive_entry_gid(e.raw);
  if (uid < 0 || uid > kMaxId || gid < 0 || gid > kMaxId) {
    return invalidArgument("uid or gid out of range");
  }
  const char* base = e.base.c_str();
  if (keep_owners_ && ::fchownat(parent, base, static_cast<uid_t>(uid), static_cast<gid_t>(gid),
                                 AT_SYMLINK_NOFOLLOW) != 0) {
    return errnoError("chown");
  }
  // What we just created is not a symlink unless the entry is one, so fchmodat's following of
  // a final symlink cannot apply; symlinks have no mode of their own.
  const mode_t mode = archive_entry_perm(e.raw) & 07777 & ~(S_ISUID | S_ISGID);
  if (archive_entry_filetype(e.raw) != AE_IFLNK && ::fchmodat(parent, base, mode, 0) != 0) {
    return errnoError("chmod");
  }
  if (archive_entry_mtime_is_set(e.raw)) {
    const timespec t{archive_entry_mtime(e.raw), archive_entry_mtime_nsec(e.raw)};
    const timespec times[2] = {t, t};
    if (::utimensat(parent, base, times, AT_SYMLINK_NOFOLLOW) != 0) return errnoError("utimensat");
  }
  return Status::ok();
}

Status LayerUnpacker::writeDirectory(int parent, const Entry& e) {
  struct stat st {};
  const bool is_dir =
      ::fstatat(parent, e.base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
  if (!is_dir) {
    BERTH_RETURN_IF_ERROR(removeAt(parent, e.base));
    if (::mkdirat(parent, e.base.c_str(), 0700) != 0) return errnoError("mkdir");
  }
  return setAttributes(parent, e);
}

Status LayerUnpacker::writeFile(int parent, Entry& e) {
  BERTH_RETURN_IF_ERROR(removeAt(parent, e.base));
  os::UniqueFd fd(
      ::openat(parent, e.base.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return errnoError("create");
  // Charged by its recorded size, so a sparse file's holes count too: they grow the ext4 image.
  std::uint64_t charged = 0;
  auto charge = [&](std::uint64_t end) -> Status {
    if (end <= charged) return Status::ok();
    if (end - charged > limits_.max_bytes - bytes_) {
      return resourceExhausted("the image unpacks to more than " +
                               std::to_string(limits_.max_bytes) + " bytes (size cap)");
    }
    bytes_ += end - charged;
    charged = end;
    return Status::ok();
  };
  if (archive_entry_size_is_set(e.raw) && archive_entry_size(e.raw) > 0) {
    BERTH_RETURN_IF_ERROR(charge(static_cast<std::uint64_t>(archive_entry_size(e.raw))));
  }
  const void* block = nullptr;
  std::size_t size = 0;
  la_int64_t offset = 0;
  int r;
  while ((r = archive_read_data_block(e.in, &block, &size, &offset)) == ARCHIVE_OK) {
    BERTH_RETURN_IF_ERROR(charge(static_cast<std::uint64_t>(offset) + size));
    BERTH_RETURN_IF_ERROR(checkRatio(e));
    BERTH_RETURN_IF_ERROR(pwriteAll(fd.get(), static_cast<const char*>(block), size, offset));
  }
  if (r != ARCHIVE_EOF) return readError(e.in, *e.ctx, "the layer is truncated or corrupt");
  if (::ftruncate(fd.get(), static_cast<off_t>(charged)) != 0) return errnoError("truncate");
  return setAttributes(parent, e);
}

Status LayerUnpacker::writeSymlink(int parent, const Entry& e) {
  const char* target = archive_entry_symlink(e.raw);
  if (target == nullptr || *target == '\0') return invalidArgument("a symlink without a target");
  BERTH_RETURN_IF_ERROR(removeAt(parent, e.base));
  if (::symlinkat(target, parent, e.base.c_str()) != 0) return errnoError("symlink");
  return setAttributes(parent, e);
}

Status LayerUnpacker::writeHardlink(int parent, const Entry& e) {
  const std::string link = archive_entry_hardlink(e.raw);
  const std::string what = "hardlink target '" + link + "'";
  auto target = splitEntryPath(link);
  if (!target.isOk()) return target.status().withContext(what);
  if (target->empty()) return invalidArgument(what + " is the root directory");
  if (joinPath(*target) == e.path) return Status::ok();  // a link to itself changes nothing
  const std::string target_base = target->back();
  target->pop_back();
  auto target_dir = openBeneath(root_.get(), *target, O_PATH | O_DIRECTORY);
  if (!target_dir.isOk()) {
    if (target_dir.status().code() == StatusCode::kNotFound)
      return invalidArgument(what + " does not exist");
    return target_dir.status().withContext(what);
  }
  struct stat st {};
  if (::fstatat(target_dir->get(), target_base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return invalidArgument(what + " does not exist");
  }
  if (S_ISDIR(st.st_mode)) return invalidArgument(what + " is a directory");
  BERTH_RETURN_IF_ERROR(removeAt(parent, e.base));
  // Flags 0: a symlink target is linked itself, never followed.
  if (::linkat(target_dir->get(), target_base.c_str(), parent, e.base.c_str(), 0) != 0) {
    return errnoError("link");
  }
  return Status::ok();
}

Status LayerUnpacker::writeFifo(int parent, const Entry& e) {
  BERTH_RETURN_IF_ERROR(removeAt(parent, e.base));
  if (::mknodat(parent, e.base.c_str(), S_IFIFO | 0600, 0) != 0) return errnoError("mkfifo");
  return setAttributes(parent, e);
}

Status LayerUnpacker::checkRatio(const Entry& e) const {
  const auto expanded = static_cast<std::uint64_t>(archive_filter_bytes(e.in, 0));
  const std::uint64_t compressed = e.ctx->blob->bytesRead();
  if (expanded > limits_.ratio_grace && expanded / limits_.max_ratio > compressed) {
    return resourceExhausted("the layer expands more than " + std::to_string(limits_.max_ratio) +
                             ":1 (compression ratio cap)");
  }
  return Status::ok();
}

}  // namespace berth::image
