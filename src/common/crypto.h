#pragma once
// Randomness and hashing for tokens and content addressing (OpenSSL).

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"

namespace berth {

// `n` bytes from the kernel CSPRNG, as lowercase hex (2n characters).
Result<std::string> randomHex(size_t n);

// SHA-256 of `data` as lowercase hex.
std::string sha256Hex(std::string_view data);

// Constant-time comparison, for secrets.
bool constantTimeEquals(std::string_view a, std::string_view b);

}  // namespace berth
