#pragma once
// Randomness, hashing and hex for tokens and content addressing (OpenSSL).

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"

namespace berth {

// `n` bytes from the kernel CSPRNG, as lowercase hex (2n characters).
Result<std::string> randomHex(size_t n);

// SHA-256 of `data` as lowercase hex.
std::string sha256Hex(std::string_view data);

// True for "sha256:" followed by exactly 64 lowercase hex digits: the only digests accepted, and
// what makes a digest safe to put into a path.
bool isSha256Digest(std::string_view digest);

// `n` bytes as lowercase hex.
std::string hexEncode(const unsigned char* bytes, size_t n);
// The value of one hex digit (either case), or -1.
int hexDigitValue(char c);

// Constant-time comparison, for secrets.
bool constantTimeEquals(std::string_view a, std::string_view b);

}  // namespace berth
