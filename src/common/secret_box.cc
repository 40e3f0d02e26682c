#include "common/secret_box.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cctype>
#include <memory>

#include "common/crypto.h"

namespace berth {

namespace {

constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

CipherCtx newCtx() { return CipherCtx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free); }

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
unsigned char* bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }


}  // namespace

Result<SecretBox> SecretBox::fromKey(std::string key) {
  if (key.size() != kKeyBytes) {
    return invalidArgument("a master key must be " + std::to_string(kKeyBytes) + " bytes, not " +
                           std::to_string(key.size()));
  }
  return SecretBox(std::move(key));
}

Result<SecretBox> SecretBox::fromHex(std::string_view text) {
  std::string hex;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) hex.push_back(c);
  }
  if (hex.size() != 2 * kKeyBytes) {
    return invalidArgument("a master key must be " + std::to_string(2 * kKeyBytes) + " hex characters, not " +
                           std::to_string(hex.size()));
  }
  std::string key(kKeyBytes, '\0');
  for (size_t i = 0; i < kKeyBytes; ++i) {
    int hi = hexDigitValue(hex[2 * i]), lo = hexDigitValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return invalidArgument("a master key must be hex digits only");
    key[i] = static_cast<char>(hi << 4 | lo);
  }
  return SecretBox(std::move(key));
}

Result<std::string> SecretBox::seal(std::string_view plaintext, std::string_view associated_data) const {
  std::string out(kNonceBytes + plaintext.size() + kTagBytes, '\0');
  if (RAND_bytes(bytes(out), kNonceBytes) != 1) return internalError("the system random number generator failed");
  auto ctx = newCtx();
  int len = 0;
  unsigned char* body = bytes(out) + kNonceBytes;
  bool ok = ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key_), bytes(out)) == 1 &&
            EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(associated_data),
                              static_cast<int>(associated_data.size())) == 1 &&
            EVP_EncryptUpdate(ctx.get(), body, &len, bytes(plaintext), static_cast<int>(plaintext.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx.get(), body + len, &len) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, body + plaintext.size()) == 1;
  if (!ok) return internalError("sealing a secret failed (OpenSSL)");
  return out;
}

Result<std::string> SecretBox::open(std::string_view sealed, std::string_view associated_data) const {
  if (sealed.size() < kNonceBytes + kTagBytes) return invalidArgument("a sealed secret is truncated");
  const size_t n = sealed.size() - kNonceBytes - kTagBytes;
  std::string out(n, '\0');
  auto ctx = newCtx();
  int len = 0;
  std::string tag(sealed.substr(kNonceBytes + n));
  bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key_), bytes(sealed)) == 1 &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(associated_data),
                              static_cast<int>(associated_data.size())) == 1 &&
            EVP_DecryptUpdate(ctx.get(), bytes(out), &len, bytes(sealed) + kNonceBytes, static_cast<int>(n)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, bytes(tag)) == 1 &&
            EVP_DecryptFinal_ex(ctx.get(), bytes(out) + len, &len) == 1;
  if (!ok) {
    OPENSSL_cleanse(out.data(), out.size());
    return failedPrecondition("a sealed secret failed authentication: altered, or sealed under another master key");
  }
  return out;
}

}  // namespace berth
