#include "common/base64.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(Base64Test, RoundTripsEveryLengthAndByte) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  for (size_t n : {0u, 1u, 2u, 3u, 4u, 255u, 256u}) {
    auto back = base64Decode(base64Encode(bytes.substr(0, n)), "x");
    ASSERT_TRUE(back.isOk()) << n;
    EXPECT_EQ(*back, bytes.substr(0, n));
  }
  EXPECT_EQ(base64Encode("hi"), "aGk=");
}

TEST(Base64Test, RefusesWhatIsNotCanonicalPaddedBase64) {
  for (const char* bad : {"aGk", "aG k", "a=Gk", "aGk=\n", "****"}) {
    auto r = base64Decode(bad, "stdin");
    ASSERT_FALSE(r.isOk()) << bad;
    EXPECT_EQ(r.status().message(), "stdin must be base64 (RFC 4648, padded)");
  }
}

}  // namespace
}  // namespace berth
