#include "image/layer_digest.h"

#include <archive.h>
#include <openssl/evp.h>

#include <memory>

#include "common/crypto.h"

namespace berth::image {

Result<std::string> uncompressedDigest(const std::string& path) {
  std::unique_ptr<archive, int (*)(archive*)> in(archive_read_new(), archive_read_free);
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!in || !ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return internalError("cannot start a layer digest");
  }
  // The raw format hands over the decompressed stream as one entry, whatever it holds.
  archive_read_support_filter_all(in.get());
  archive_read_support_format_raw(in.get());
  archive_entry* entry = nullptr;
  if (archive_read_open_filename(in.get(), path.c_str(), 1 << 16) != ARCHIVE_OK ||
      archive_read_next_header(in.get(), &entry) != ARCHIVE_OK) {
    return invalidArgument(std::string("the layer does not decompress: ") + archive_error_string(in.get()));
  }
  const void* block;
  size_t size;
  la_int64_t offset;
  int r;
  while ((r = archive_read_data_block(in.get(), &block, &size, &offset)) == ARCHIVE_OK) {
    EVP_DigestUpdate(ctx.get(), block, size);
  }
  if (r != ARCHIVE_EOF) {
    return invalidArgument(std::string("the layer does not decompress: ") + archive_error_string(in.get()));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &length);
  return "sha256:" + hexEncode(digest, length);
}

}  // namespace berth::image
