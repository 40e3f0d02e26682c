#include "image/blob_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "os/file_util.h"

namespace berth::image {
namespace {

constexpr std::size_t kChunk = 1 << 16;

}  // namespace


BlobReader::BlobReader(os::UniqueFd fd, Descriptor expected, HashCtx ctx)
    : fd_(std::move(fd)), expected_(std::move(expected)), ctx_(std::move(ctx)) {}

Result<BlobReader> BlobReader::open(const std::string& path, Descriptor expected) {
  if (!isSha256Digest(expected.digest)) {
    return invalidArgument("unsupported or malformed blob digest '" + expected.digest + "'");
  }
  os::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    const int err = errno;
    return Status(err == ENOENT ? StatusCode::kNotFound : StatusCode::kInternal,
                  "cannot open '" + path + "': " + os::errnoMessage(err));
  }
  HashCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return internalError("cannot start a sha256 hash");
  }
  return BlobReader(std::move(fd), std::move(expected), std::move(ctx));
}

Result<std::size_t> BlobReader::read(char* buf, std::size_t len) {
  ssize_t n;
  do {
    n = ::read(fd_.get(), buf, len);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return internalError("cannot read blob " + expected_.digest + ": " + os::errnoMessage(errno));
  }
  read_ += static_cast<std::uint64_t>(n);
  if (read_ > expected_.size) {
    return invalidArgument("blob " + expected_.digest + " is larger than the " +
                           std::to_string(expected_.size) + " bytes its descriptor says");
  }
  EVP_DigestUpdate(ctx_.get(), buf, static_cast<std::size_t>(n));
  return static_cast<std::size_t>(n);
}

Result<Descriptor> BlobReader::readToEnd() {
  std::string buf(kChunk, '\0');
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(std::size_t n, read(buf.data(), buf.size()));
    if (n == 0) break;
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  EVP_DigestFinal_ex(ctx_.get(), md, &md_len);
  return Descriptor{expected_.media_type, "sha256:" + hexEncode(md, md_len), read_};
}

Status BlobReader::finish() {
  BERTH_ASSIGN_OR_RETURN(Descriptor actual, readToEnd());
  if (actual.digest != expected_.digest || actual.size != expected_.size) {
    return invalidArgument("blob " + expected_.digest + " is corrupt: it has digest " +
                           actual.digest + " and size " + std::to_string(actual.size) +
                           ", its descriptor says size " + std::to_string(expected_.size));
  }
  return Status::ok();
}

Result<std::string> readSmallBlob(const std::string& path, const Descriptor& expected,
                                  std::uint64_t max_size) {
  if (expected.size > max_size) {
    return invalidArgument("blob " + expected.digest + " of " + std::to_string(expected.size) +
                           " bytes is larger than the " + std::to_string(max_size) +
                           " allowed for it");
  }
  BERTH_ASSIGN_OR_RETURN(BlobReader reader, BlobReader::open(path, expected));
  // One byte more than declared, so that an oversized file is caught by read() itself.
  std::string out(expected.size + 1, '\0');
  std::size_t have = 0;
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(std::size_t n, reader.read(out.data() + have, out.size() - have));
    if (n == 0) break;
    have += n;
  }
  BERTH_RETURN_IF_ERROR(reader.finish());
  out.resize(have);
  return out;
}

Result<Descriptor> hashFile(const std::string& path) {
  // Any size is allowed and the placeholder digest is never compared: readToEnd() only hashes.
  Descriptor unknown{"", "sha256:" + std::string(64, '0'), UINT64_MAX};
  BERTH_ASSIGN_OR_RETURN(BlobReader reader, BlobReader::open(path, unknown));
  BERTH_ASSIGN_OR_RETURN(Descriptor actual, reader.readToEnd());
  actual.media_type.clear();
  return actual;
}

}  // namespace berth::image
