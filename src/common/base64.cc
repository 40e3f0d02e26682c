#include "common/base64.h"

#include <openssl/evp.h>

#include <cctype>

namespace berth {

std::string base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<std::string> base64Decode(std::string_view text, const std::string& field) {
  const Status bad = invalidArgument(field + " must be base64 (RFC 4648, padded)");
  if (text.size() % 4 != 0) return bad;
  // EVP_DecodeBlock accepts whitespace and ignores nothing else; refuse what it would skip.
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/' && c != '=') return bad;
  }
  std::string out(3 * (text.size() / 4), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return bad;
  // EVP_DecodeBlock counts padding as zero bytes; drop them.
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') pad = text.size() >= 2 && text[text.size() - 2] == '=' ? 2 : 1;
  const auto first_pad = text.find('=');
  if (first_pad != std::string_view::npos && first_pad < text.size() - pad) return bad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

}  // namespace berth
