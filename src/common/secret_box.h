#pragma once
// Sealing secrets at rest: AES-256-GCM (OpenSSL) under one 32-byte master key. A sealed value is
// nonce (12 random bytes) ‖ ciphertext ‖ tag (16 bytes). The associated data binds a ciphertext
// to its place (e.g. "project/NAME/version"), so a sealed value copied to another row fails to
// open instead of leaking under the wrong name.

#include <string>
#include <string_view>

#include "common/result.h"

namespace berth {

class SecretBox {
 public:
  static constexpr size_t kKeyBytes = 32;

  // `key` must be exactly kKeyBytes raw bytes.
  static Result<SecretBox> fromKey(std::string key);
  // 2 × kKeyBytes hex characters; whitespace around them is ignored (key files end in "\n").
  static Result<SecretBox> fromHex(std::string_view text);

  Result<std::string> seal(std::string_view plaintext, std::string_view associated_data) const;
  // Fails (without detail an attacker could use) when the value was altered, was sealed under
  // another key, or belongs to other associated data.
  Result<std::string> open(std::string_view sealed, std::string_view associated_data) const;

 private:
  explicit SecretBox(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

}  // namespace berth
