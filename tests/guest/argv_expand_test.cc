#include "guest/argv_expand.h"

#include <gtest/gtest.h>

namespace berth::guest {
namespace {

using Args = std::vector<std::string>;

TEST(ArgvExpandTest, ReplacesKnownVariables) {
  EXPECT_EQ(expandArgv({"httpd", "-p", "$(PORT)", "--addr=0.0.0.0:$(PORT)"}, {"PORT=8081"}),
            (Args{"httpd", "-p", "8081", "--addr=0.0.0.0:8081"}));
}

TEST(ArgvExpandTest, LeavesUnknownNamesAndLoneDollarsAsWritten) {
  EXPECT_EQ(expandArgv({"$(NOPE)", "$HOME", "cost $", "$(unclosed"}, {"PORT=1"}),
            (Args{"$(NOPE)", "$HOME", "cost $", "$(unclosed"}));
}

TEST(ArgvExpandTest, DoubleDollarEscapes) {
  EXPECT_EQ(expandArgv({"$$(PORT)", "a$$b"}, {"PORT=1"}), (Args{"$(PORT)", "a$b"}));
}

TEST(ArgvExpandTest, TheLastEntryForANameWins) {
  EXPECT_EQ(expandArgv({"$(A)"}, {"A=1", "A=2=3"}), (Args{"2=3"}));
}

}  // namespace
}  // namespace berth::guest
