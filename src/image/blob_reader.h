#pragma once
// Content-addressed blobs (OCI image-spec "descriptor.md"): a blob is only trusted once every
// byte of it has been hashed and matched against the digest and size its descriptor names.
// BlobReader hashes while the consumer reads, so a layer is verified in the same pass that
// unpacks it: the bytes checked are the bytes used, even if the file changes underneath.

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <string>

#include "common/crypto.h"
#include "common/result.h"
#include "os/unique_fd.h"

namespace berth::image {

struct Descriptor {
  std::string media_type;
  std::string digest;  // "sha256:<64 lowercase hex>"
  std::uint64_t size = 0;
};

// Reads one blob file sequentially. Not thread-safe; movable.
class BlobReader {
 public:
  // Opens `path`, which is expected to hold the blob `expected` describes (its digest must be
  // valid, see isSha256Digest in common/crypto.h).
  static Result<BlobReader> open(const std::string& path, Descriptor expected);

  // Reads up to `len` bytes into `buf`; 0 at the end of the file. Reading more bytes than the
  // descriptor's size is an InvalidArgument error at once, so an oversized blob is not read on.
  Result<std::size_t> read(char* buf, std::size_t len);
  // Reads whatever the consumer left (a tar's zero padding) and returns the digest and size of
  // all that was read, without comparing them.
  Result<Descriptor> readToEnd();
  // readToEnd(), then compares the size and the digest with the descriptor: InvalidArgument
  // naming the blob on a mismatch.
  Status finish();

  std::uint64_t bytesRead() const { return read_; }
  const Descriptor& descriptor() const { return expected_; }

 private:
  using HashCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;
  BlobReader(os::UniqueFd fd, Descriptor expected, HashCtx ctx);

  os::UniqueFd fd_;
  Descriptor expected_;
  HashCtx ctx_;
  std::uint64_t read_ = 0;
};

// Reads a whole small blob (a manifest, an index, a config) into memory, verified. Blobs larger
// than `max_size` are refused before anything is read.
Result<std::string> readSmallBlob(const std::string& path, const Descriptor& expected,
                                  std::uint64_t max_size);

// The sha256 digest and size of a file (media_type left empty), hashed in chunks.
Result<Descriptor> hashFile(const std::string& path);

}  // namespace berth::image
