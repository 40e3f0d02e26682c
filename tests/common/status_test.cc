#include "common/result.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

Result<int> half(int x) {
  if (x % 2) return invalidArgument(std::to_string(x) + " is odd");
  return x / 2;
}

Result<int> quarter(int x) {
  BERTH_ASSIGN_OR_RETURN(int h, half(x));
  return half(h);
}

TEST(StatusTest, ContextIsPrefixed) {
  Status s = notFound("VM 'web-1' does not exist").withContext("Failed to start VM");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "Failed to start VM: VM 'web-1' does not exist");
  EXPECT_EQ(s.toString(), "not_found: Failed to start VM: VM 'web-1' does not exist");
  EXPECT_TRUE(Status::ok().withContext("x").isOk());
}

TEST(ResultTest, PropagatesErrors) {
  EXPECT_EQ(*quarter(8), 2);
  Result<int> r = quarter(6);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().message(), "3 is odd");
}

TEST(ResultDeathTest, ValueOfFailureAborts) {
  Result<int> r = half(3);
  EXPECT_DEATH((void)r.value(), "3 is odd");
}

}  // namespace
}  // namespace berth
