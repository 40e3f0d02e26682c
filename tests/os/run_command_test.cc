#include "os/run_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace berth::os {
namespace {

using ::testing::HasSubstr;

TEST(RunCommandOutputTest, ReturnsWhatTheProgramPrinted) {
  auto out = runCommandOutput({"sh", "-c", "printf 'one\\ntwo\\n'; echo noise >&2"});
  ASSERT_TRUE(out.isOk()) << out.status().toString();
  EXPECT_EQ(*out, "one\ntwo\n");
}

TEST(RunCommandOutputTest, AFailureCarriesItsStderrNotItsOutput) {
  auto out = runCommandOutput({"sh", "-c", "echo partial; echo broken >&2; exit 3"});
  ASSERT_FALSE(out.isOk());
  EXPECT_THAT(out.status().message(), HasSubstr("exit 3"));
  EXPECT_THAT(out.status().message(), HasSubstr("broken"));
}

TEST(RunCommandOutputTest, AnEmptyOutputIsEmpty) {
  auto out = runCommandOutput({"true"});
  ASSERT_TRUE(out.isOk());
  EXPECT_EQ(*out, "");
}

}  // namespace
}  // namespace berth::os
