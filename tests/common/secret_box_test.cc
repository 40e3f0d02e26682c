#include "common/secret_box.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

SecretBox box(char fill = 'k') { return SecretBox::fromKey(std::string(SecretBox::kKeyBytes, fill)).value(); }

TEST(SecretBoxTest, SealsAndOpens) {
  auto sealed = box().seal("hunter2", "demo/DB_PASSWORD/1");
  ASSERT_TRUE(sealed.isOk());
  EXPECT_EQ(sealed->find("hunter2"), std::string::npos);
  EXPECT_EQ(sealed->size(), 12 + 7 + 16u);
  EXPECT_EQ(box().open(*sealed, "demo/DB_PASSWORD/1").value(), "hunter2");
  EXPECT_NE(*sealed, box().seal("hunter2", "demo/DB_PASSWORD/1").value()) << "a fresh nonce each time";
  EXPECT_EQ(box().open(box().seal("", "x").value(), "x").value(), "");
}

TEST(SecretBoxTest, RefusesAlteredMisplacedOrForeignValues) {
  std::string sealed = box().seal("hunter2", "demo/A/1").value();
  EXPECT_EQ(box().open(sealed, "demo/B/1").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(box('j').open(sealed, "demo/A/1").isOk());
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string altered = sealed;
    altered[i] ^= 1;
    EXPECT_FALSE(box().open(altered, "demo/A/1").isOk()) << "byte " << i;
  }
  EXPECT_FALSE(box().open(sealed.substr(0, 20), "demo/A/1").isOk());
}

TEST(SecretBoxTest, KeysMustBeTheRightSize) {
  EXPECT_FALSE(SecretBox::fromKey("short").isOk());
  EXPECT_TRUE(SecretBox::fromHex(std::string(64, 'a') + "\n").isOk());
  EXPECT_EQ(SecretBox::fromHex(std::string(62, 'a')).status().message(),
            "a master key must be 64 hex characters, not 62");
  EXPECT_FALSE(SecretBox::fromHex(std::string(63, 'a') + "g").isOk());
}

}  // namespace
}  // namespace berth
