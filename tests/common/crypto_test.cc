#include "common/crypto.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(CryptoTest, Sha256KnownVector) {
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(CryptoTest, RandomHexIsFreshAndSized) {
  auto a = randomHex(32), b = randomHex(32);
  ASSERT_TRUE(a.isOk() && b.isOk());
  EXPECT_EQ(a->size(), 64u);
  EXPECT_NE(*a, *b);
}

TEST(CryptoTest, ConstantTimeEquals) {
  EXPECT_TRUE(constantTimeEquals("abc", "abc"));
  EXPECT_FALSE(constantTimeEquals("abc", "abd"));
  EXPECT_FALSE(constantTimeEquals("abc", "ab"));
}

}  // namespace
}  // namespace berth
