#pragma once
// Base64 (RFC 4648, with padding) for bytes that travel inside JSON: exec input and output.

#include <string>
#include <string_view>

#include "common/result.h"

namespace berth {

std::string base64Encode(std::string_view bytes);
// InvalidArgument naming `field` if `text` is not canonical padded base64.
Result<std::string> base64Decode(std::string_view text, const std::string& field);

}  // namespace berth
